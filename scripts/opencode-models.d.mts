// Types of opencode-models.mjs, for the tests that import it.
export declare const SNAPSHOT_FILE: string
export declare function pinnedVersion(root?: string): string
export declare function pinnedBinary(root?: string): { file: string; version: string }
export declare function parseLiteral(text: string, start?: number): { value: unknown; end: number }
export declare function catalogueOf(binary: Buffer): Record<string, unknown>
export declare function snapshotText(catalogue: Record<string, unknown>, version: string): string
