// A small PDF writer for scanned documents: each page is one JPEG image
// (embedded as is, /DCTDecode), drawn over the whole page. PDF 1.4, one
// cross-reference table, nothing compressed but the images themselves.

import { t } from "../i18n/i18n";

export interface JPEGPage {
  /** The JPEG file's bytes. */
  jpeg: Uint8Array;
  /** The image's size in pixels. */
  width: number;
  height: number;
  /** Whether the JPEG has one component (grayscale) rather than three. */
  gray?: boolean;
}

/** A4's long side in points: every page is scaled so its long side has this length. */
const LONG_SIDE = 842;

/** jpegPDF makes a PDF with one page per image. */
export function jpegPDF(pages: JPEGPage[], title = t("app.tasks.scan.pdfTitle")): Uint8Array<ArrayBuffer> {
  if (!pages.length) throw new Error(t("app.tasks.scan.pdfEmpty"));
  const enc = new TextEncoder();
  const chunks: Uint8Array[] = [];
  let length = 0;
  const offsets: number[] = []; // by object number - 1
  const put = (x: string | Uint8Array) => {
    const b = typeof x === "string" ? enc.encode(x) : x;
    chunks.push(b);
    length += b.length;
  };
  const obj = (n: number, body: string | (string | Uint8Array)[]) => {
    offsets[n - 1] = length;
    put(`${n} 0 obj\n`);
    for (const part of typeof body === "string" ? [body] : body) put(part);
    put("\nendobj\n");
  };
  // The header's second line has bytes over 127, so tools treat the file as binary.
  put(new Uint8Array([...enc.encode("%PDF-1.4\n%"), 0xe2, 0xe3, 0xcf, 0xd3, 0x0a]));

  // Objects: 1 catalog, 2 page tree, 3 info; then per page: page, contents, image.
  const first = 4;
  const kids = pages.map((_, i) => `${first + i * 3} 0 R`).join(" ");
  obj(1, "<< /Type /Catalog /Pages 2 0 R >>");
  obj(2, `<< /Type /Pages /Kids [${kids}] /Count ${pages.length} >>`);
  obj(3, `<< /Title ${pdfString(title)} /Producer (Parley) >>`);
  pages.forEach((p, i) => {
    const n = first + i * 3;
    const scale = LONG_SIDE / Math.max(p.width, p.height);
    const w = round(p.width * scale);
    const h = round(p.height * scale);
    obj(n, `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${w} ${h}] /Resources << /XObject << /Im0 ${n + 2} 0 R >> >> /Contents ${n + 1} 0 R >>`);
    const content = `q ${w} 0 0 ${h} 0 0 cm /Im0 Do Q`;
    obj(n + 1, `<< /Length ${content.length} >>\nstream\n${content}\nendstream`);
    obj(n + 2, [
      `<< /Type /XObject /Subtype /Image /Width ${p.width} /Height ${p.height} /ColorSpace /${p.gray ? "DeviceGray" : "DeviceRGB"} ` +
        `/BitsPerComponent 8 /Filter /DCTDecode /Length ${p.jpeg.length} >>\nstream\n`,
      p.jpeg,
      "\nendstream",
    ]);
  });
  const count = first - 1 + pages.length * 3;
  const xref = length;
  // Each entry is exactly 20 bytes: 10-digit offset, 5-digit generation, n/f, and a two-byte end of line.
  let table = `xref\n0 ${count + 1}\n0000000000 65535 f \n`;
  for (let i = 0; i < count; i++) table += String(offsets[i]).padStart(10, "0") + " 00000 n \n";
  put(table);
  put(`trailer\n<< /Size ${count + 1} /Root 1 0 R /Info 3 0 R >>\nstartxref\n${xref}\n%%EOF\n`);
  const out = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function round(n: number) {
  return Math.round(n * 100) / 100;
}

/** pdfString is a PDF literal string of s: ASCII as is, anything else as UTF-16 in hex. */
function pdfString(s: string): string {
  if (/^[\x20-\x7e]*$/.test(s)) return "(" + s.replace(/[\\()]/g, (c) => "\\" + c) + ")";
  let hex = "FEFF";
  for (let i = 0; i < s.length; i++) hex += s.charCodeAt(i).toString(16).padStart(4, "0");
  return "<" + hex + ">";
}
