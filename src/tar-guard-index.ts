/** The tar guard's entry point (dist/tar-guard/index.js); see src/action/cache/tar-guard.ts. */
import { runTarGuard } from './action/cache/tar-guard.js'

process.exitCode = await runTarGuard(process.argv.slice(2))
