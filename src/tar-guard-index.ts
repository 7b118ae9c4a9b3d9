/** The tar guard's entry point (dist/tar-guard/index.js); see src/action/tar-guard.ts. */
import { runTarGuard } from './action/tar-guard.js'

process.exitCode = await runTarGuard(process.argv.slice(2))
