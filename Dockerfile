# barge in a container: built from this checkout on Debian 12 (bookworm)
# slim, installed from its own Debian package, run as a non-root user.
# Not built by the tests (nothing can be pulled there); docs/install.md.
#
#   docker build -t barge --build-arg BARGE_GIT_REVISION=$(git rev-parse --short=12 HEAD) .
#   docker run --rm -v "$PWD:/work" barge copy sqlite:in.db sqlite:out.db
#
# The build stage: scripts/bootstrap installs the one package list
# (docs/building.md), then a Release build and scripts/package.
FROM debian:bookworm-slim AS build
ARG BARGE_GIT_REVISION=unknown
WORKDIR /src
COPY . .
RUN ./scripts/bootstrap \
 && cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release \
          -DBARGE_GIT_REVISION="${BARGE_GIT_REVISION}" \
 && cmake --build /build -j"$(nproc)" \
 && BUILD_DIR=/build ./scripts/package /out

# The image: the package and the libraries its Depends names, nothing else.
FROM debian:bookworm-slim
COPY --from=build /out/ /tmp/deb/
RUN apt-get update \
 && apt-get install -y --no-install-recommends /tmp/deb/barge_*.deb \
 && rm -rf /var/lib/apt/lists/* /tmp/deb \
 && useradd --system --uid 10001 --user-group --create-home --home-dir /home/barge barge \
 && mkdir /work && chown barge:barge /work
USER barge
WORKDIR /work
ENTRYPOINT ["barge"]
CMD ["--help"]
