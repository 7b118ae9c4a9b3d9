/**
 * The workflows in .github/workflows/ and the examples in README.md, checked with GitHub's own
 * workflow parser (@actions/workflow-parser), and README.md checked against action.yml: its input
 * and output tables, the `with:` keys of every kugetsu step, the Quick start against the repository's
 * own kugetsu workflow, and the CLI usage text against the CLI.
 */
import { describe, expect, test } from '@jest/globals'
import {
  NoOperationTraceWriter,
  convertWorkflowTemplate,
  isMapping,
  isSequence,
  parseWorkflow
} from '@actions/workflow-parser'
import { convertActionTemplate, parseAction } from '@actions/workflow-parser/actions/index'
import type { TemplateToken } from '@actions/workflow-parser/templates/tokens/template-token'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { USAGE } from '../src/cli/run-cli.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8')

const README_PATH = 'README.md'
const WORKFLOWS_DIR = '.github/workflows'
const DOGFOOD_WORKFLOW = `${WORKFLOWS_DIR}/kugetsu.yml`
const PUBLISHED_USES = /^(?:https:\/\/github\.com\/)?shoko\/kugetsu@/

// ---------------------------------------------------------------------------------------------
// Markdown

interface FencedBlock {
  lang: string
  content: string
  /** 1-based line of the opening fence. */
  line: number
}

function fencedBlocks(markdown: string): FencedBlock[] {
  const blocks: FencedBlock[] = []
  const lines = markdown.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const open = /^ {0,3}(`{3,}|~{3,})\s*([\w-]*)/.exec(lines[i])
    if (!open) continue
    const fence = open[1]
    const body: string[] = []
    let j = i + 1
    for (; j < lines.length && !lines[j].trimStart().startsWith(fence); j++) body.push(lines[j])
    blocks.push({ lang: open[2].toLowerCase(), content: `${body.join('\n')}\n`, line: i + 1 })
    i = j
  }
  return blocks
}

/** Cells of a markdown table row (`| a | b |`), trimmed, with `\|` unescaped. */
function tableCells(row: string): string[] {
  return row
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim().replace(/\\\|/g, '|'))
}

const unquote = (cell: string): string => cell.replace(/^`(.*)`$/, '$1')

/** The first table after the `## <heading>` line, as rows of cells keyed by the header's names. */
function tableUnder(markdown: string, heading: string): Record<string, string>[] {
  const lines = markdown.split('\n')
  const start = lines.findIndex((line) => line.trim() === `## ${heading}`)
  if (start < 0) throw new Error(`README.md has no "## ${heading}" section`)
  let i = start + 1
  while (i < lines.length && !lines[i].startsWith('|')) {
    if (lines[i].startsWith('## ')) throw new Error(`the "## ${heading}" section has no table`)
    i++
  }
  const header = tableCells(lines[i])
  const rows: Record<string, string>[] = []
  for (i += 2; i < lines.length && lines[i].startsWith('|'); i++) {
    const cells = tableCells(lines[i])
    rows.push(Object.fromEntries(header.map((name, index) => [name, cells[index] ?? ''])))
  }
  return rows
}

const normalizeSpace = (text: string): string => text.replace(/\s+/g, ' ').trim()

// ---------------------------------------------------------------------------------------------
// Workflows

interface ParsedWorkflow {
  errors: string[]
  root: TemplateToken | undefined
}

async function parse(name: string, content: string): Promise<ParsedWorkflow> {
  const result = parseWorkflow({ name, content }, new NoOperationTraceWriter())
  const errors = result.context.errors.getErrors().map((error) => error.message)
  if (errors.length === 0 && result.value) {
    const template = await convertWorkflowTemplate(result.context, result.value)
    errors.push(...(template.errors ?? []).map((error) => error.Message))
  }
  return { errors, root: result.value }
}

const isWorkflow = (yaml: string): boolean => /^on:/m.test(yaml) && /^jobs:/m.test(yaml)
const isStepList = (yaml: string): boolean =>
  /^- /.test(yaml.replace(/^(\s*#.*)?\n/gm, '').trimStart())

/** A README fragment that is a list of steps, made into a workflow the parser can check. */
function wrapSteps(steps: string): string {
  const indented = steps
    .split('\n')
    .map((line) => (line === '' ? line : `      ${line}`))
    .join('\n')
  return `on: workflow_dispatch\njobs:\n  example:\n    runs-on: ubuntu-latest\n    steps:\n${indented}`
}

function get(token: TemplateToken | undefined, key: string): TemplateToken | undefined {
  if (!token || !isMapping(token)) return undefined
  for (const pair of token) if (pair.key.toString() === key) return pair.value
  return undefined
}

interface KugetsuStep {
  job: string
  uses: string
  withKeys: string[]
}

/** Steps that use kugetsu (`shoko/kugetsu@...`, or `./` in this repository), with their `with:` keys. */
function kugetsuSteps(root: TemplateToken | undefined): KugetsuStep[] {
  const found: KugetsuStep[] = []
  const jobs = get(root, 'jobs')
  if (!jobs || !isMapping(jobs)) return found
  for (const { key, value: job } of jobs) {
    const steps = get(job, 'steps')
    if (!steps || !isSequence(steps)) continue
    for (const step of steps) {
      const uses = get(step, 'uses')?.toString() ?? ''
      if (uses !== './' && !PUBLISHED_USES.test(uses)) continue
      const inputs = get(step, 'with')
      const withKeys = inputs && isMapping(inputs) ? [...inputs].map((p) => p.key.toString()) : []
      found.push({ job: key.toString(), uses, withKeys })
    }
  }
  return found
}

// ---------------------------------------------------------------------------------------------
// action.yml

function readAction() {
  const result = parseAction(
    { name: 'action.yml', content: read('action.yml') },
    new NoOperationTraceWriter()
  )
  const errors = result.context.errors.getErrors().map((error) => error.message)
  if (errors.length > 0 || !result.value) throw new Error(`action.yml: ${errors.join('; ')}`)
  const action = convertActionTemplate(result.context, result.value)
  return {
    inputs: (action.inputs ?? []).map((input) => ({
      name: input.id,
      default: input.default?.toString() ?? '',
      description: normalizeSpace(input.description ?? '')
    })),
    outputs: (action.outputs ?? []).map((output) => ({
      name: output.id,
      description: normalizeSpace(output.description ?? '')
    }))
  }
}

// ---------------------------------------------------------------------------------------------

const readme = read(README_PATH)
const readmeBlocks = fencedBlocks(readme)
const readmeYaml = readmeBlocks.filter((block) => block.lang === 'yaml' || block.lang === 'yml')
const workflowFiles = readdirSync(join(ROOT, WORKFLOWS_DIR))
  .filter((file) => /\.ya?ml$/.test(file))
  .sort()
const action = readAction()
const inputNames = new Set(action.inputs.map((input) => input.name))

/** Every workflow to check: the files, the README's workflows and its step lists (wrapped). */
const examples = [
  ...workflowFiles.map((file) => ({
    name: `${WORKFLOWS_DIR}/${file}`,
    content: read(`${WORKFLOWS_DIR}/${file}`)
  })),
  ...readmeYaml
    .filter((block) => isWorkflow(block.content) || isStepList(block.content))
    .map((block) => ({
      name: `${README_PATH}:${block.line}`,
      content: isWorkflow(block.content) ? block.content : wrapSteps(block.content)
    }))
]

describe('workflows', () => {
  test('the README has a workflow example and the repository has its kugetsu workflow', () => {
    expect(readmeYaml.some((block) => isWorkflow(block.content))).toBe(true)
    expect(workflowFiles).toContain('kugetsu.yml')
  })

  test('every README yaml block is a workflow or a list of steps, so it gets checked', () => {
    const unchecked = readmeYaml
      .filter((block) => !isWorkflow(block.content) && !isStepList(block.content))
      .map((block) => `${README_PATH}:${block.line}`)
    expect(unchecked).toEqual([])
  })

  test.each(examples)('$name passes GitHub’s workflow parser', async (example) => {
    const { errors } = await parse(example.name, example.content)
    expect(errors).toEqual([])
  })

  test.each(examples)('$name gives kugetsu only inputs action.yml declares', async (example) => {
    const { root } = await parse(example.name, example.content)
    const unknown = kugetsuSteps(root).flatMap((step) =>
      step.withKeys
        .filter((key) => !inputNames.has(key))
        .map((key) => `${step.job}: ${step.uses} with ${key}`)
    )
    expect(unknown).toEqual([])
  })

  test('the README and the repository workflow use kugetsu', async () => {
    const readmeSteps = (
      await Promise.all(
        examples
          .filter((example) => example.name.startsWith(README_PATH))
          .map(async (example) => kugetsuSteps((await parse(example.name, example.content)).root))
      )
    ).flat()
    expect(readmeSteps.length).toBeGreaterThan(0)
    expect(readmeSteps.every((step) => PUBLISHED_USES.test(step.uses))).toBe(true)
    const dogfood = kugetsuSteps((await parse(DOGFOOD_WORKFLOW, read(DOGFOOD_WORKFLOW))).root)
    expect(dogfood.map((step) => step.uses)).toEqual(['./'])
  })

  test('the README’s Forgejo/Gitea workflow uses kugetsu by its full URL, without author_association', async () => {
    const forgejo = examples.filter(
      (example) =>
        example.name.startsWith(README_PATH) &&
        /uses: https:\/\/github\.com\/shoko\/kugetsu@/.test(example.content)
    )
    expect(forgejo).toHaveLength(1)
    const [example] = forgejo
    expect(example.content).not.toMatch(/\.author_association/)
    const steps = kugetsuSteps((await parse(example.name, example.content)).root)
    expect(steps.map((step) => step.uses)).toEqual(['https://github.com/shoko/kugetsu@v1'])
    // Every other action by its full URL too: a default Forgejo resolves bare names elsewhere.
    expect(example.content.match(/uses: (?!https:\/\/)\S+/g)).toBeNull()
  })

  test('the repository workflow is the README’s Quick start with uses: ./', () => {
    const quickStart = readmeYaml.find(
      (block) => isWorkflow(block.content) && /uses: shoko\/kugetsu@/.test(block.content)
    )
    expect(quickStart).toBeDefined()
    expect(read(DOGFOOD_WORKFLOW)).toBe(
      quickStart!.content.replace(/uses: shoko\/kugetsu@\S+/, 'uses: ./')
    )
  })
})

describe('README.md and action.yml', () => {
  test('action.yml passes GitHub’s action parser and declares inputs and outputs', () => {
    expect(action.inputs.length).toBeGreaterThan(0)
    expect(action.outputs.length).toBeGreaterThan(0)
  })

  // When action.yml changes, update the tables: one row per input or output, in action.yml's order.
  test('the Inputs table lists every input with its default and description', () => {
    const rows = tableUnder(readme, 'Inputs').map((row) => ({
      name: unquote(row.Input),
      default: unquote(row.Default),
      description: normalizeSpace(row.Description)
    }))
    // On a mismatch, the expected rows are what the table should say.
    expect(rows).toEqual(action.inputs)
  })

  test('the Outputs table lists every output with its description', () => {
    const rows = tableUnder(readme, 'Outputs').map((row) => ({
      name: unquote(row.Output),
      description: normalizeSpace(row.Description)
    }))
    expect(rows).toEqual(action.outputs)
  })
})

describe('README.md and the rest of the repository', () => {
  // When USAGE in src/cli/run-cli.ts changes, paste it into README.md's ```text block.
  test('the CLI reference shows the CLI’s usage text as it is', () => {
    const usage = readmeBlocks.find((block) => block.content.startsWith('kugetsu: '))
    expect(usage?.content.trimEnd()).toBe(USAGE.trimEnd())
  })

  test('every `npm run` script the README names exists', () => {
    const scripts = Object.keys(
      (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts
    )
    const named = [...readme.matchAll(/npm run ([\w:-]+)/g)].map((match) => match[1])
    expect(named.length).toBeGreaterThan(0)
    expect(named.filter((name) => !scripts.includes(name))).toEqual([])
  })

  test('the Development setup and test commands are the ones CI runs', () => {
    const ci = read('.ci/run')
    expect(ci).toMatch(/^npm install\b/m)
    expect(ci).toMatch(/^npm run check$/m)
    const development = readme.slice(readme.indexOf('## Development'))
    expect(development).toMatch(/^npm install +# setup$/m)
    expect(development).toMatch(/^npm run check +#/m)
  })
})
