// The slabs (orders.ts, fills.ts) grow by copying into a bigger typed array.

/** A copy of `a` in a new array of `n` elements (n >= a.length; the rest zero). */
export function grown<T extends Float64Array | Int32Array>(a: T, n: number): T {
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  return b;
}
