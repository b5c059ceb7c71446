// Types of the demo's local Analytics Engine stand-in (scripts/demo/collector*.mjs), for its tests.
declare module '*/scripts/demo/collector.mjs' {
  export function startCollector(options?: { dataset?: string; clock?: () => number }): Promise<{
    port: number;
    url: string;
    accountId: string;
    token: string;
    dataset: string;
    points: () => number;
    queries: () => number;
    close: () => Promise<void>;
  }>;
}
declare module '*/scripts/demo/collector-sql.mjs' {
  export class SqlError extends Error {}
  export function quantileExactWeighted(level: number, pairs: [number, number][]): number | null;
  export function runQuery(
    sql: string,
    rows: Record<string, unknown>[],
    options: { dataset: string; nowSeconds: number },
  ): { meta: { name: string; type: string }[]; data: Record<string, unknown>[]; rows: number };
}
