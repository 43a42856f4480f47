/**
 * What a memory's keyword leg indexes: its text and, on a line of its own, its keyword-only
 * `context` (the previous conversation turn, a document title). The context is searched by
 * keyword and hybrid queries but never embedded, and it is not part of the text returned.
 */
export function keywordText(text: string, context: string | undefined): string {
  return context === undefined || context === '' ? text : `${text}\n${context}`;
}
