/** The opencode release kugetsu is built and tested against (npm package `opencode-ai`). */
export const OPENCODE_VERSION = '1.18.33'
