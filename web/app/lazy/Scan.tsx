// "Scan a document" (seed 001): take pictures with the device's camera
// (the rear one where there is a choice), crop each to the document with a
// rectangle whose corners are dragged (or moved with the arrow keys), an
// optional "document" filter (grayscale, more contrast), as many pages as
// needed; the result is attached to the message as a JPEG (one page) or a
// PDF (pdf.ts), through the composer's usual upload. Without a camera (or
// with access denied) a photo can be chosen instead.

import { useEffect, useRef, useState } from "preact/hooks";
import { t } from "../../i18n/i18n";
import { jpegPDF } from "../pdf";
import { Modal } from "../ui/common";

interface Page {
  blob: Blob;
  url: string;
  width: number;
  height: number;
  gray: boolean;
}

/** A crop rectangle in fractions of the still's width and height. */
interface Rect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

type Corner = "tl" | "tr" | "bl" | "br";
const CORNERS = [
  { c: "tl", label: "app.tasks.scan.cornerTopLeft" },
  { c: "tr", label: "app.tasks.scan.cornerTopRight" },
  { c: "bl", label: "app.tasks.scan.cornerBottomLeft" },
  { c: "br", label: "app.tasks.scan.cornerBottomRight" },
] as const satisfies readonly { c: Corner; label: string }[];

/** The longest side a page is kept at: sharp enough to read, small enough to send. */
const MAX_SIDE = 2000;
const MIN_CROP = 0.05;

function cameraError(e: unknown): string {
  const name = (e as DOMException)?.name || "";
  switch (name) {
    case "NotAllowedError":
    case "SecurityError":
      return t("app.tasks.scan.camDenied");
    case "NotFoundError":
    case "OverconstrainedError":
      return t("app.tasks.scan.camNone");
    case "NotReadableError":
    case "AbortError":
      return t("app.tasks.scan.camBusy");
  }
  return t("app.tasks.scan.camFailed", { reason: (e as Error)?.message || name || t("app.tasks.scan.unknownError") });
}

function stamp() {
  return new Date().toISOString().slice(0, 19).replace(/[:T]/g, "-");
}

function toBlob(c: HTMLCanvasElement, type: string, q?: number): Promise<Blob> {
  return new Promise((ok, fail) => c.toBlob((b) => (b ? ok(b) : fail(new Error(t("app.tasks.scan.encode")))), type, q));
}

/** documentFilter makes a page read like a scan: grayscale, stretched so paper is white and ink dark. */
function documentFilter(ctx: CanvasRenderingContext2D, w: number, h: number) {
  const img = ctx.getImageData(0, 0, w, h);
  const d = img.data;
  const hist = new Uint32Array(256);
  for (let i = 0; i < d.length; i += 4) {
    const y = (d[i] * 299 + d[i + 1] * 587 + d[i + 2] * 114) / 1000;
    d[i] = y;
    hist[d[i]]++;
  }
  // Black and white points at the 2nd and 90th percentiles (paper is most of a page).
  const n = w * h;
  let lo = 0,
    hi = 255,
    acc = 0;
  for (let v = 0; v < 256; v++) {
    acc += hist[v];
    if (acc < n * 0.02) lo = v;
    if (acc < n * 0.9) hi = v;
  }
  // A picture with little contrast (no page in it, a dim room) is not
  // stretched further than 2.5 times: noise must not turn into ink.
  if (hi - lo < 100) {
    const mid = (hi + lo) / 2;
    lo = Math.max(0, mid - 50);
    hi = Math.min(255, mid + 50);
  }
  const k = 255 / (hi - lo);
  for (let i = 0; i < d.length; i += 4) {
    const v = Math.max(0, Math.min(255, (d[i] - lo) * k));
    d[i] = d[i + 1] = d[i + 2] = v;
  }
  ctx.putImageData(img, 0, 0);
}

export function ScanDialog(props: { onDone: (file: File) => void; onClose: () => void }) {
  const [step, setStep] = useState<"camera" | "crop" | "pages">("camera");
  const [error, setError] = useState("");
  const [starting, setStarting] = useState(true);
  const [still, setStill] = useState<HTMLCanvasElement | null>(null);
  const [stillURL, setStillURL] = useState("");
  const [rect, setRect] = useState<Rect>({ x0: 0.06, y0: 0.06, x1: 0.94, y1: 0.94 });
  const [filter, setFilter] = useState(true);
  const [pages, setPages] = useState<Page[]>([]);
  const [format, setFormat] = useState<"pdf" | "image">("pdf");
  const [busy, setBusy] = useState(false);
  const [source, setSource] = useState<"camera" | "file">("camera");
  const video = useRef<HTMLVideoElement>(null);
  const stream = useRef<MediaStream | null>(null);
  const picker = useRef<HTMLInputElement>(null);
  const frame = useRef<HTMLDivElement>(null);

  const stop = () => {
    stream.current?.getTracks().forEach((tr) => tr.stop());
    stream.current = null;
  };

  // The camera runs while its step is on screen.
  useEffect(() => {
    if (step !== "camera") return;
    let gone = false;
    setError("");
    setStarting(true);
    if (!navigator.mediaDevices?.getUserMedia) {
      setError(
        window.isSecureContext ? t("app.tasks.scan.noCamera") : t("app.tasks.scan.insecure"),
      );
      setStarting(false);
      return;
    }
    navigator.mediaDevices
      .getUserMedia({ video: { facingMode: { ideal: "environment" }, width: { ideal: 1920 }, height: { ideal: 1080 } }, audio: false })
      .then(
        (s) => {
          if (gone) {
            s.getTracks().forEach((tr) => tr.stop());
            return;
          }
          stream.current = s;
          if (video.current) {
            video.current.srcObject = s;
            video.current.play().catch(() => {});
          }
          setStarting(false);
        },
        (e) => {
          if (!gone) {
            setError(cameraError(e));
            setStarting(false);
          }
        },
      );
    return () => {
      gone = true;
      stop();
    };
  }, [step]);

  useEffect(() => () => pages.forEach((p) => URL.revokeObjectURL(p.url)), []);

  const useStill = (c: HTMLCanvasElement, from: "camera" | "file") => {
    setError("");
    setSource(from);
    setStill(c);
    setStillURL(c.toDataURL("image/jpeg", 0.9));
    setRect({ x0: 0.06, y0: 0.06, x1: 0.94, y1: 0.94 });
    setStep("crop");
  };

  const capture = () => {
    const v = video.current;
    if (!v || !v.videoWidth) return;
    const c = document.createElement("canvas");
    c.width = v.videoWidth;
    c.height = v.videoHeight;
    c.getContext("2d")!.drawImage(v, 0, 0);
    useStill(c, "camera");
  };

  const chosen = async (f: File | undefined) => {
    if (!f) return;
    try {
      const bmp = await createImageBitmap(f);
      const c = document.createElement("canvas");
      c.width = bmp.width;
      c.height = bmp.height;
      c.getContext("2d")!.drawImage(bmp, 0, 0);
      bmp.close();
      stop();
      useStill(c, "file");
    } catch {
      setError(t("app.tasks.scan.notPicture"));
    }
  };

  const keep = async () => {
    if (!still) return;
    setBusy(true);
    try {
      const sx = Math.round(rect.x0 * still.width);
      const sy = Math.round(rect.y0 * still.height);
      const sw = Math.max(1, Math.round((rect.x1 - rect.x0) * still.width));
      const sh = Math.max(1, Math.round((rect.y1 - rect.y0) * still.height));
      const scale = Math.min(1, MAX_SIDE / Math.max(sw, sh));
      const c = document.createElement("canvas");
      c.width = Math.max(1, Math.round(sw * scale));
      c.height = Math.max(1, Math.round(sh * scale));
      const ctx = c.getContext("2d", { willReadFrequently: filter })!;
      ctx.drawImage(still, sx, sy, sw, sh, 0, 0, c.width, c.height);
      if (filter) documentFilter(ctx, c.width, c.height);
      const blob = await toBlob(c, "image/jpeg", 0.85);
      setPages((ps) => [...ps, { blob, url: URL.createObjectURL(blob), width: c.width, height: c.height, gray: false }]);
      setStill(null);
      setStep("pages");
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const finish = async () => {
    setBusy(true);
    try {
      let file: File;
      if (format === "image" && pages.length === 1) {
        file = new File([pages[0].blob], `scan-${stamp()}.jpg`, { type: "image/jpeg" });
      } else {
        const list = await Promise.all(
          pages.map(async (p) => ({ jpeg: new Uint8Array(await p.blob.arrayBuffer()), width: p.width, height: p.height, gray: p.gray })),
        );
        file = new File([jpegPDF(list)], `scan-${stamp()}.pdf`, { type: "application/pdf" });
      }
      stop();
      props.onDone(file);
    } catch (e) {
      setError((e as Error).message);
      setBusy(false);
    }
  };

  const close = () => {
    stop();
    props.onClose();
  };

  // Dragging a corner: its position follows the pointer over the still.
  const drag = (corner: Corner) => (e: PointerEvent) => {
    e.preventDefault();
    const el = e.currentTarget as HTMLElement;
    el.setPointerCapture(e.pointerId);
    const move = (ev: PointerEvent) => {
      const box = frame.current?.getBoundingClientRect();
      if (!box) return;
      const fx = Math.min(1, Math.max(0, (ev.clientX - box.left) / box.width));
      const fy = Math.min(1, Math.max(0, (ev.clientY - box.top) / box.height));
      setRect((r) => moveCorner(r, corner, fx, fy));
    };
    const up = () => {
      el.removeEventListener("pointermove", move);
      el.removeEventListener("pointerup", up);
      el.removeEventListener("pointercancel", up);
    };
    el.addEventListener("pointermove", move);
    el.addEventListener("pointerup", up);
    el.addEventListener("pointercancel", up);
  };
  const nudge = (corner: Corner) => (e: KeyboardEvent) => {
    const step = e.shiftKey ? 0.05 : 0.01;
    const d = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] }[e.key];
    if (!d) return;
    e.preventDefault();
    setRect((r) => {
      const [x, y] = corner === "tl" ? [r.x0, r.y0] : corner === "tr" ? [r.x1, r.y0] : corner === "bl" ? [r.x0, r.y1] : [r.x1, r.y1];
      return moveCorner(r, corner, x + d[0], y + d[1]);
    });
  };

  const title =
    step === "camera" ? t("app.tasks.scan.titleCamera", { n: pages.length + 1 }) : step === "crop" ? t("app.tasks.scan.titleCrop") : t("app.tasks.scan.titlePages");
  return (
    <Modal title={title} onClose={close} wide class="scan-window" label={t("app.tasks.scan.label")}>
      <input
        ref={picker}
        type="file"
        accept="image/*"
        capture="environment"
        hidden
        onChange={(e) => {
          const el = e.currentTarget as HTMLInputElement;
          chosen(el.files?.[0]);
          el.value = "";
        }}
      />
      {error ? (
        <div class="form-error scan-error" role="alert">
          <p>{error}</p>
        </div>
      ) : null}
      {step === "camera" ? (
        <div class="scan-camera">
          {!error ? (
            <div class="scan-video">
              <video ref={video} autoPlay playsInline muted aria-label={t("app.tasks.scan.video")} />
              {starting ? <p class="scan-hint">{t("app.tasks.scan.starting")}</p> : <p class="scan-hint">{t("app.tasks.scan.hint")}</p>}
            </div>
          ) : null}
          <div class="scan-actions">
            {pages.length ? (
              <button class="btn" onClick={() => (stop(), setStep("pages"))}>
                {t("app.tasks.scan.backToPages", { n: pages.length })}
              </button>
            ) : null}
            <button class={"btn" + (error ? " primary" : "")} onClick={() => picker.current?.click()}>
              {t("app.tasks.scan.choose")}
            </button>
            {!error ? (
              <button class="btn primary" onClick={capture} disabled={starting} data-autofocus>
                {t("app.tasks.scan.take")}
              </button>
            ) : null}
          </div>
        </div>
      ) : step === "crop" ? (
        <div class="scan-crop">
          <div class="crop-frame" ref={frame}>
            <img src={stillURL} alt={t("app.tasks.scan.still")} draggable={false} class={filter ? "doc-filter" : ""} />
            <div
              class="crop-rect"
              style={{ left: pct(rect.x0), top: pct(rect.y0), width: pct(rect.x1 - rect.x0), height: pct(rect.y1 - rect.y0) }}
              aria-hidden="true"
            />
            {CORNERS.map(({ c, label }) => {
              const x = c === "tl" || c === "bl" ? rect.x0 : rect.x1;
              const y = c === "tl" || c === "tr" ? rect.y0 : rect.y1;
              return (
                <button
                  key={c}
                  class={"crop-handle " + c}
                  style={{ left: pct(x), top: pct(y) }}
                  aria-label={t("app.tasks.scan.handle", { corner: t(label) })}
                  onPointerDown={drag(c)}
                  onKeyDown={nudge(c)}
                />
              );
            })}
          </div>
          <label class="check scan-filter">
            <input type="checkbox" checked={filter} onChange={(e) => setFilter((e.currentTarget as HTMLInputElement).checked)} />{" "}
            {t("app.tasks.scan.filter")}
          </label>
          <div class="scan-actions">
            {source === "file" ? (
              <button class="btn" onClick={() => picker.current?.click()}>
                {t("app.tasks.scan.another")}
              </button>
            ) : (
              <button class="btn" onClick={() => setStep("camera")}>
                {t("app.tasks.scan.retake")}
              </button>
            )}
            <button class="btn primary" onClick={keep} disabled={busy}>
              {t("app.tasks.scan.use")}
            </button>
          </div>
        </div>
      ) : (
        <div class="scan-pages">
          <ol class="scan-thumbs" aria-label={t("app.tasks.scan.pages")}>
            {pages.map((p, i) => (
              <li key={p.url}>
                <img src={p.url} alt={t("app.tasks.scan.page", { n: i + 1 })} />
                <span class="scan-page-no">{t("app.tasks.scan.page", { n: i + 1 })}</span>
                <button
                  class="btn small"
                  aria-label={t("app.tasks.scan.removePage", { n: i + 1 })}
                  onClick={() => {
                    URL.revokeObjectURL(p.url);
                    setPages((ps) => ps.filter((x) => x !== p));
                  }}
                >
                  {t("app.tasks.scan.remove")}
                </button>
              </li>
            ))}
          </ol>
          {pages.length === 1 ? (
            <fieldset class="scan-format">
              <legend>{t("app.tasks.scan.sendAs")}</legend>
              <label class="check">
                <input type="radio" name="scan-format" checked={format === "pdf"} onChange={() => setFormat("pdf")} /> {t("app.tasks.scan.pdf")}
              </label>
              <label class="check">
                <input type="radio" name="scan-format" checked={format === "image"} onChange={() => setFormat("image")} /> {t("app.tasks.scan.image")}
              </label>
            </fieldset>
          ) : pages.length > 1 ? (
            <p class="muted">{t("app.tasks.scan.onePdf", { n: pages.length })}</p>
          ) : null}
          <div class="scan-actions">
            <button class="btn" onClick={() => setStep("camera")}>
              {t("app.tasks.scan.addPage")}
            </button>
            <button class="btn primary" onClick={finish} disabled={busy || !pages.length}>
              {pages.length === 1 && format === "image" ? t("app.tasks.scan.attachImage") : t("app.tasks.scan.attachPdf")}
            </button>
          </div>
        </div>
      )}
    </Modal>
  );
}

function pct(f: number) {
  return (f * 100).toFixed(3) + "%";
}

/** moveCorner moves one corner of r to (x, y), keeping the rectangle at least MIN_CROP wide and high. */
function moveCorner(r: Rect, c: Corner, x: number, y: number): Rect {
  x = Math.min(1, Math.max(0, x));
  y = Math.min(1, Math.max(0, y));
  const n = { ...r };
  if (c === "tl" || c === "bl") n.x0 = Math.min(x, r.x1 - MIN_CROP);
  else n.x1 = Math.max(x, r.x0 + MIN_CROP);
  if (c === "tl" || c === "tr") n.y0 = Math.min(y, r.y1 - MIN_CROP);
  else n.y1 = Math.max(y, r.y0 + MIN_CROP);
  return n;
}
