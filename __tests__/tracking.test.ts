import { describe, expect, it } from '@jest/globals'
import { isKugetsuComment, replyBody } from '../src/action/conversation/report.js'
import { interruptedBody, isTrackingComment, workingBody } from '../src/action/github/tracking.js'

const RUN = 'https://github.com/o/r/actions/runs/1'

describe('tracking comment bodies', () => {
  it('"working on it" links the run and carries the marker, so kugetsu never answers it', () => {
    const body = workingBody(RUN, 'github.com/o/r#7')
    expect(body).toContain('working on it')
    expect(body).toContain(`([run](${RUN}))`)
    expect(body).toMatch(/<!-- kugetsu: ref=github.com\/o\/r#7 tracking=working -->$/)
    expect(isKugetsuComment(body)).toBe(true)
    expect(isTrackingComment(body)).toBe(true)
  })

  it('the interrupted body says why and how to retry, and is still a tracking comment', () => {
    const body = interruptedBody(RUN, 'the job timed out')
    expect(body).toContain('**kugetsu stopped without replying:** the job timed out.')
    expect(body).toContain('Ask again to retry.')
    expect(body).toContain(`([run](${RUN}))`)
    expect(isTrackingComment(body)).toBe(true)
  })

  it('without a run URL there is no link', () => {
    expect(workingBody('')).not.toContain('[run]')
    expect(interruptedBody('')).toContain('cancelled, timed out or stopped')
  })

  it('replies are not tracking comments', () => {
    const reply = replyBody('tracking=yes in the text', {
      ref: 'github.com/o/r#7',
      mode: 'start',
      sessionId: 'ses_1',
      turns: 1,
      tokensInput: 1,
      tokensOutput: 1,
      cost: 0,
      durationMs: 1,
      runUrl: RUN
    })
    expect(isTrackingComment(reply)).toBe(false)
    expect(isTrackingComment('no marker, tracking=working')).toBe(false)
  })
})
