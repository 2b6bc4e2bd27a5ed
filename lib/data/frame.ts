/** danfojs, loaded on first use (importing it takes a second or two, and most cells never need it). */
import type * as dfdTypes from 'danfojs-node';

let loaded: typeof dfdTypes | null = null;

/** The danfojs-node module (DataFrame, Series, …), required once on first call. */
export function danfo(): typeof dfdTypes {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  loaded ??= require('danfojs-node') as typeof dfdTypes;
  return loaded;
}
