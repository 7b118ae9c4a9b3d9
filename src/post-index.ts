/** The action's post step (action.yml `post`, run with `post-if: always()`). */
import { runPost } from './post.js'

await runPost()
