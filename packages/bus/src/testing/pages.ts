/**
 * Every page of a cursor-paged read, in order: `read(undefined)` first, then each page's
 * `nextCursor` until a page has none. More than `maxPages` pages fail, so a cursor that never
 * ends fails the test instead of hanging it.
 */
export async function allPages<Page extends { nextCursor?: string | undefined }>(
  read: (cursor: string | undefined) => Promise<Page>,
  maxPages = 10_000,
): Promise<Page[]> {
  const pages: Page[] = [];
  let cursor: string | undefined;
  do {
    if (pages.length === maxPages) throw new Error(`more than ${maxPages} pages`);
    const page = await read(cursor);
    pages.push(page);
    cursor = page.nextCursor;
  } while (cursor);
  return pages;
}
