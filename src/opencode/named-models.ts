/**
 * The models named in the markdown files opencode reads agents, modes and commands from
 * (`model: provider/model` in their front matter), so the catalogue kept for a run
 * (model-catalogue.ts) has their providers. The files are a checkout's, anyone's content: links
 * are not followed, only regular files are opened, and the walk and the reads are bounded.
 */
import { constants } from 'node:fs'
import { lstat, open, readdir } from 'node:fs/promises'
import { join } from 'node:path'

/** The dirs opencode reads them from, inside a config dir. */
const MARKDOWN_DIRS = ['agent', 'agents', 'mode', 'modes', 'command', 'commands']
const MAX_DEPTH = 6
/** Files read and dirs walked, together. */
const MAX_FILES = 2000
/** Front matter is at the top: no more of a file is read. */
const HEAD_BYTES = 16 * 1024
const MODEL_LINE = /^\s*model\s*:\s*["']?([^\s"'#]+)/gm

/** The top of a regular file; a link, FIFO or device swapped in is not read (nor waited on). */
async function head(path: string): Promise<string> {
  const file = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
  try {
    if (!(await file.stat()).isFile()) return ''
    const buffer = Buffer.alloc(HEAD_BYTES)
    const { bytesRead } = await file.read(buffer, 0, HEAD_BYTES, 0)
    return buffer.subarray(0, bytesRead).toString('utf8')
  } finally {
    await file.close()
  }
}

/** Model names in the front matter of `text` (between the opening and closing `---`). */
export function frontMatterModels(text: string): string[] {
  const match = /^---\r?\n([\s\S]*?)\r?\n---/.exec(text)
  if (!match) return []
  return [...match[1].matchAll(MODEL_LINE)].map((found) => found[1])
}

/** Every model named in the agents, modes and commands of the config dirs. */
export async function modelsNamedInConfigDirs(configDirs: string[]): Promise<string[]> {
  const names: string[] = []
  let files = 0
  const walk = async (dir: string, depth: number): Promise<void> => {
    if (depth > MAX_DEPTH) return
    let entries
    try {
      entries = await readdir(dir, { withFileTypes: true })
    } catch {
      return
    }
    for (const entry of entries) {
      if (files >= MAX_FILES) return
      const path = join(dir, entry.name)
      // readdir's type is lstat's: a link is neither a dir nor a file here
      if (entry.isDirectory()) {
        // a dir counts too: else a tree of many dirs and no .md file is walked to the end
        files++
        await walk(path, depth + 1)
      } else if (entry.isFile() && entry.name.endsWith('.md')) {
        files++
        names.push(...frontMatterModels(await head(path).catch(() => '')))
      }
    }
  }
  for (const configDir of configDirs) {
    for (const name of MARKDOWN_DIRS) {
      const dir = join(configDir, name)
      const stat = await lstat(dir).catch(() => undefined)
      if (stat?.isDirectory()) await walk(dir, 1)
    }
  }
  return names
}
