import { describe, expect, it } from 'vitest';
import type { SummaryOutcome } from '../src/domain/session-compactor.ts';
import type { Summarizer } from '../src/ports/summarizer.ts';
import { compactorOver, sessionMemory } from './support/session-fixture.ts';

const session = () => [1, 2, 3, 4].map((index) => sessionMemory(index));

/** A summariser that answers from a script: text, or a thrown error. */
function scriptedSummarizer(answer: () => string): Summarizer {
  return {
    capabilities: { name: 'openai', remote: true },
    summarize: async () => answer(),
  };
}

describe('session summaries', () => {
  it('stores the configured chat summariser’s text as the summary memory', async () => {
    const { compactor, stored } = compactorOver(session(), {
      summarizer: scriptedSummarizer(() => 'Jobs 1 to 4 ran on nodes n-1 to n-4.'),
    });
    await compactor.compact('t', 's1');
    expect(stored.map((memory) => memory.text)).toEqual(['Jobs 1 to 4 ran on nodes n-1 to n-4.']);
  });

  it('bounds the chat summary to the configured number of characters', async () => {
    const { compactor } = compactorOver(session(), {
      summarizer: scriptedSummarizer(() => 'x'.repeat(500)),
      summarise: { maxChars: 200, keepRatio: 0.35, lambda: 0.7 },
    });
    const report = await compactor.compact('t', 's1');
    expect(report.summary?.length).toBe(200);
  });

  it('falls back to the extractive summary when the chat summariser fails', async () => {
    const extractive = await compactorOver(session()).compactor.compact('t', 's1');
    const { compactor } = compactorOver(session(), {
      summarizer: scriptedSummarizer(() => {
        throw new Error('model down');
      }),
    });
    expect((await compactor.compact('t', 's1')).summary).toBe(extractive.summary);
  });

  it('reports a fallback once per failed chat summary', async () => {
    const summaries: SummaryOutcome['result'][] = [];
    const { compactor } = compactorOver(session(), {
      summarizer: scriptedSummarizer(() => {
        throw new Error('model down');
      }),
      onSummary: (summary) => summaries.push(summary.result),
    });
    await compactor.compact('t', 's1');
    expect(summaries).toEqual(['fallback']);
  });

  it('reports the extractive provider when none is configured', async () => {
    const summaries: Omit<SummaryOutcome, 'error'>[] = [];
    const { compactor } = compactorOver(session(), {
      onSummary: ({ provider, result }) => summaries.push({ provider, result }),
    });
    await compactor.compact('t', 's1');
    expect(summaries).toEqual([{ provider: 'extractive', result: 'ok' }]);
  });
});
