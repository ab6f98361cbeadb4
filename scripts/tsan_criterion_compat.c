/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Lets Criterion start under ThreadSanitizer (Criterion issue #274).
 *
 * Criterion's BoxFort maps its inheritable arena at a random address between
 * 0x2000'0000'0000 and 0x6000'0000'0000, picked with rand_r(), and gives up
 * after ten tries. Under GCC 12's TSan on x86-64 nearly all of that range is
 * TSan shadow or protected memory; only 0x5500'0000'0000-0x5680'0000'0000 is
 * application memory, so a test binary dies at start about four times in
 * five with "Could not initialize inheritable arena". BoxFort maps at
 * 0x2000'0000'0000 + (rand_r() & 0x3fffff) * 16 MiB, so this rand_r yields
 * only offsets inside that window.
 *
 * scripts/build.sh --tsan compiles this file and puts the object on every
 * executable's link line (CMAKE_EXE_LINKER_FLAGS): it must be an object in
 * the executable itself, because libtsan.so exports its own rand_r
 * interceptor, which would satisfy the symbol before any static archive was
 * searched. Nothing in the project uses rand_r.
 */
int rand_r(unsigned int *seed);

int rand_r(unsigned int *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	/* (0x5500'0000'0000 - 0x2000'0000'0000) / 16 MiB = 0x350000; the window
	 * is 0x18000 steps of 16 MiB wide. */
	return (int)(0x350000u + (*seed >> 8) % 0x18000u);
}
