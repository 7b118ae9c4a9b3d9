/** The action's post step (action.yml `post`, run with `post-if: always()`). */
import { releaseSandboxLeftBehind, runPost } from './post.js'

await releaseSandboxLeftBehind()
await runPost()
