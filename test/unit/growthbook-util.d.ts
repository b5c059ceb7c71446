declare module '*/growthbook/dist/esm/util.mjs' {
  export function hash(seed: string, value: string, version: number): number | null;
}
