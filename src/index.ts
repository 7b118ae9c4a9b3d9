/** The action's entry point (action.yml `main`). */
import { run } from './main.js'

await run()
