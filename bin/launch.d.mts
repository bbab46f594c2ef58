/** URL of the prebuilt clm bundle in `dir` if it is newer than every input it lists, else null. */
export function freshBundle(dir?: string, base?: string): string | null;
export const root: string;
