import { createReadStream } from 'node:fs';

/**
 * The objects of a JSON file, one at a time, without reading the file whole: the elements of a
 * top-level array; the elements of the array under one of `arrayKeys` of a top-level object
 * (`{ "results": [...] }`; its other fields are skipped); or each top-level object of a file of
 * many (NDJSON). Only the object being read is held in memory.
 */
export async function* jsonValues(
  file: string,
  arrayKeys: readonly string[],
): AsyncGenerator<unknown> {
  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 16 });
  let depth = 0;
  let inString = false;
  let escaped = false;
  let top: '{' | '[' | undefined;
  // The depth inside which the wanted objects open (1: a top-level array, 2: a wrapper's array).
  let elementDepth = -1;
  let wrapper = false;
  // The object being captured: its text so far, where it starts in this chunk, the depth it opened at.
  let parts: string[] | undefined;
  let partStart = 0;
  let captureDepth = -1;
  // Strings directly inside a top-level object (its keys), to find the wrapper's array.
  let keyParts: string[] | undefined;
  let keyStart = 0;
  let lastString: string | undefined;
  let currentKey: string | undefined;
  let offset = 0;
  const parse = (text: string) => {
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new Error(`${file}: not JSON near character ${offset} (${(error as Error).message})`);
    }
  };
  for await (const chunk of stream as AsyncIterable<string>) {
    partStart = 0;
    keyStart = 0;
    for (let index = 0; index < chunk.length; index++) {
      const char = chunk[index];
      if (inString) {
        if (escaped) escaped = false;
        else if (char === '\\') escaped = true;
        else if (char === '"') {
          inString = false;
          if (keyParts) {
            keyParts.push(chunk.slice(keyStart, index));
            lastString = parse(`"${keyParts.join('')}"`) as string;
            keyParts = undefined;
          }
        }
        continue;
      }
      switch (char) {
        case '"':
          inString = true;
          if (top === '{' && depth === 1 && !wrapper) {
            keyParts = [];
            keyStart = index + 1;
          }
          break;
        case ':':
          if (top === '{' && depth === 1) currentKey = lastString;
          break;
        case ',':
          if (depth === 1) currentKey = undefined;
          break;
        case '{':
        case '[':
          if (depth === 0) {
            top = char;
            wrapper = false;
            if (char === '{') {
              parts = [];
              partStart = index;
              captureDepth = 0;
            } else elementDepth = 1;
          } else if (
            depth === 1 &&
            top === '{' &&
            char === '[' &&
            !wrapper &&
            currentKey !== undefined &&
            arrayKeys.includes(currentKey)
          ) {
            wrapper = true;
            parts = undefined;
            elementDepth = 2;
          } else if (depth === elementDepth && char === '{' && parts === undefined) {
            parts = [];
            partStart = index;
            captureDepth = depth;
          }
          depth++;
          break;
        case '}':
        case ']':
          depth--;
          if (depth < 0)
            throw new Error(`${file}: unbalanced ${char} near character ${offset + index}`);
          if (parts && depth === captureDepth) {
            parts.push(chunk.slice(partStart, index + 1));
            const text = parts.join('');
            parts = undefined;
            yield parse(text);
          }
          if (char === ']' && depth === elementDepth - 1) elementDepth = -1;
          if (depth === 0) {
            top = undefined;
            wrapper = false;
            elementDepth = -1;
            currentKey = undefined;
          }
          break;
      }
    }
    if (parts) parts.push(chunk.slice(partStart));
    if (keyParts) keyParts.push(chunk.slice(keyStart));
    offset += chunk.length;
  }
  if (depth !== 0 || inString) throw new Error(`${file}: the JSON ends early`);
}
