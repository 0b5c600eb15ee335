// The in-isolate caches of the hot path (object ids, terms headers, session tokens, negative
// look-ups) are all shortcuts that must never grow without bound in a long-lived isolate: one
// Map that drops its oldest entry past a limit, so each cache states only its limit.

/** A Map that keeps at most `limit` entries, dropping the oldest written first. */
export class BoundedMap<K, V> {
  private readonly map = new Map<K, V>();
  constructor(private readonly limit: number) {}
  get(k: K): V | undefined {
    return this.map.get(k);
  }
  /** Writes `v` as the newest entry, then drops the oldest while over the limit. */
  set(k: K, v: V): void {
    this.map.delete(k);
    this.map.set(k, v);
    while (this.map.size > this.limit) this.map.delete(this.map.keys().next().value as K);
  }
  delete(k: K): void {
    this.map.delete(k);
  }
  has(k: K): boolean {
    return this.map.has(k);
  }
  get size(): number {
    return this.map.size;
  }
  clear(): void {
    this.map.clear();
  }
}

/** One BoundedMap per owner (a config, an object namespace), made on first use and gone with
 *  its owner. */
export function boundedMapPer<O extends object, K, V>(limit: number): (owner: O) => BoundedMap<K, V> {
  const maps = new WeakMap<O, BoundedMap<K, V>>();
  return (owner) => {
    let map = maps.get(owner);
    if (!map) {
      map = new BoundedMap(limit);
      maps.set(owner, map);
    }
    return map;
  };
}
