// Types of source-hash.mjs, for the tests that import it.
export declare const SOURCE_HASH_FILE: string
export declare function sourceFiles(root: string): string[]
export declare function sourceHash(root: string): string
export declare function assertDistFresh(root: string): void
