# Writes OUT (a header) with BARGE_GIT_REVISION: the source's git revision
# (its commit, with -dirty when changed), or REV_OVERRIDE (the cache variable
# BARGE_GIT_REVISION) when
# given, or "unknown" outside a git checkout. Run at every build; the file
# is rewritten only when the revision changed, so nothing rebuilds else.
if(DEFINED REV_OVERRIDE AND NOT REV_OVERRIDE STREQUAL "")
  set(rev "${REV_OVERRIDE}")
else()
  # --exclude="*": the commit, never a tag name
  execute_process(COMMAND git describe --always --dirty --abbrev=12 --exclude=*
    WORKING_DIRECTORY "${SRC}" OUTPUT_VARIABLE rev
    OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE failed)
  if(failed OR rev STREQUAL "")
    set(rev "unknown")
  endif()
endif()
set(text "#define BARGE_GIT_REVISION \"${rev}\"\n")
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
endif()
if(NOT old STREQUAL text)
  file(WRITE "${OUT}" "${text}")
endif()
