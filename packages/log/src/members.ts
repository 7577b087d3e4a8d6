/**
 * Listing an object's members without allocating, for the paths that run on
 * every event: for-in makes no array (Object.keys does), and when nothing the
 * object inherits is enumerable it lists exactly `Object.keys(o)`, in the same
 * order. Internal: not exported from the package.
 */

/**
 * Whether nothing in Object.prototype is enumerable (nothing polluted it): then
 * for-in over an object whose prototype is Object.prototype lists its own keys.
 * Asked once per event or record rather than per object: Object.prototype is a
 * dictionary, which for-in lists the slow way.
 */
export function prototypeClean(): boolean {
  for (const _ in Object.prototype) return false;
  return true;
}

/** Whether for-in over `o` lists exactly `Object.keys(o)`, given {@link prototypeClean}. */
export function forInIsOwn(o: object, clean: boolean): boolean {
  const proto: unknown = Object.getPrototypeOf(o);
  return proto === null || (clean && proto === Object.prototype);
}

/** `o` when {@link forInIsOwn} holds, else a null-prototype copy of its own enumerable members, for which it does. */
export function forInOwn(o: object, clean: boolean): Record<string, unknown> {
  return (forInIsOwn(o, clean) ? o : Object.assign(Object.create(null), o)) as Record<string, unknown>;
}

/** Whether for-in lists the keys of `o` in ascending UTF-16 code unit order (the JCS order). */
export function keysSorted(o: object): boolean {
  let previous: string | undefined;
  for (const key in o) {
    if (previous !== undefined && previous > key) return false;
    previous = key;
  }
  return true;
}

/**
 * Sorts keys in place by UTF-16 code units (the JCS order, as `sort()` without
 * a comparator), by insertion for a few keys: V8's sort allocates work space
 * on every call, which costs more than sorting the handful of keys an object has.
 */
export function sortKeys(keys: string[]): string[] {
  if (keys.length > 16) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i]!;
    let j = i - 1;
    while (j >= 0 && keys[j]! > key) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = key;
  }
  return keys;
}
