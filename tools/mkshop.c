/* Placeholder: the demo's sample-database generator is being written. */
int main(void)
{
	return 0;
}
