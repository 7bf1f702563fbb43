/** Traps (unreachable) on thread `which`: lets the tests check that a kernel failing on a worker is reported. */
export function testTrap(tid: i32, nthreads: i32, which: i32): void {
  if (tid == which) unreachable();
}
