/**
 * fast-xml-parser settings for the XML we read from servers (Tableau REST answers, sign-in bodies the simulator
 * receives). Entity processing is off: a DOCTYPE that declares entities (`<!ENTITY lol "lol...">`, the XML
 * "billion laughs") is never expanded. XML's five predefined entities and character references are still decoded,
 * by {@link decodeXmlReferences}, so `P&amp;L` reads as `P&L`.
 */

const PREDEFINED: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/**
 * Decodes `&lt; &gt; &amp; &quot; &apos;` and character references (`&#233;`, `&#xE9;`); every other `&name;`
 * (a DOCTYPE-declared entity) is left as written. An out-of-range reference is left as written too.
 */
export function decodeXmlReferences(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#x[0-9a-fA-F]{1,6}|#\d{1,7}|[A-Za-z]+);/g, (all, body: string) => {
    if (!body.startsWith('#')) return PREDEFINED[body] ?? all;
    const code = body.startsWith('#x') ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
    return code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff) ? all : String.fromCodePoint(code);
  });
}

/** Options to spread into every `new XMLParser(...)` reading text from outside. */
export const SAFE_XML_PARSER_OPTIONS = {
  processEntities: false,
  htmlEntities: false,
  tagValueProcessor: (_name: string, value: string): string => decodeXmlReferences(value),
  attributeValueProcessor: (_name: string, value: string): string => decodeXmlReferences(value),
} as const;
