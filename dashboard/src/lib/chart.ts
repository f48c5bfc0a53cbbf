// Chart helpers. A line draws nothing for a value whose neighbours are missing (a range with one hour of data,
// or an hour between gaps): such points get a dot of their own.

/** Indexes of the non-null values of `key` whose neighbours are both null (or absent). */
export function isolatedPoints<T>(points: T[], key: keyof T): Set<number> {
  const has = (i: number) => i >= 0 && i < points.length && points[i][key] !== null && points[i][key] !== undefined;
  const out = new Set<number>();
  for (let i = 0; i < points.length; i++) if (has(i) && !has(i - 1) && !has(i + 1)) out.add(i);
  return out;
}
