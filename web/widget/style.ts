// The widget's styles, inside its shadow root: the host page's CSS cannot
// reach them and they cannot leak out. Colours are the staff app's
// (web/app/styles.css): accent #3457d5, text #1c2233, muted #667089.
// Kept terse on purpose: this string ships as is in widget.js.

export const CSS = `
:host{all:initial}
*{box-sizing:border-box}
.w{font:15px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;color:#1c2233;-webkit-font-smoothing:antialiased}
button,textarea,input{font:inherit;color:inherit;margin:0}
button{cursor:pointer}
button:disabled{cursor:default;opacity:.5}
a{color:inherit}
[hidden]{display:none!important}
svg{width:20px;height:20px;fill:none;stroke:currentColor;stroke-width:2;stroke-linecap:round;stroke-linejoin:round;flex:none}
:focus-visible{outline:2px solid #3457d5;outline-offset:2px}
.bub{position:fixed;right:20px;bottom:20px;z-index:2147483646;width:58px;height:58px;border-radius:50%;border:0;background:linear-gradient(135deg,#3457d5,#5873e8);color:#fff;box-shadow:0 6px 22px rgba(20,30,60,.3);display:grid;place-items:center;transition:transform .15s}
.bub:hover{transform:scale(1.06)}
.bub:focus-visible{outline:3px solid #9db0f2}
.bub svg{width:27px;height:27px;transition:transform .2s,opacity .2s;grid-area:1/1}
.bub svg+svg,.open .bub svg:first-child{opacity:0;transform:rotate(-60deg) scale(.6)}
.open .bub svg+svg{opacity:1;transform:none}
.badge{position:absolute;top:-3px;right:-3px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;background:#d3304a;color:#fff;font-size:12px;font-weight:700;line-height:18px;text-align:center;border:2px solid #fff}
.pan{position:fixed;right:20px;bottom:92px;z-index:2147483647;width:380px;height:min(640px,calc(100vh - 112px));display:flex;flex-direction:column;background:#f4f5f8;border-radius:16px;overflow:hidden;box-shadow:0 14px 44px rgba(20,30,60,.28);animation:up .18s ease-out}
@keyframes up{from{opacity:0;transform:translateY(14px)}}
.hd{display:flex;align-items:center;gap:12px;padding:14px 10px 14px 16px;background:linear-gradient(135deg,#3457d5,#4d6ae6);color:#fff;flex:none}
.av{width:40px;height:40px;border-radius:50%;background:rgba(255,255,255,.2);display:grid;place-items:center;font-weight:700;font-size:15px;flex:none}
.ht{min-width:0;flex:1}
.ht h2{margin:0;font-size:16px;font-weight:650;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.ht p{margin:2px 0 0;font-size:13px;opacity:.9;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.dot{display:inline-block;width:8px;height:8px;border-radius:50%;background:#b8c0d4;margin-right:6px;vertical-align:1px}
.dot.on{background:#4ade80}
.hb{border:0;background:none;color:#fff;width:36px;height:36px;border-radius:8px;display:grid;place-items:center;flex:none}
.hb:hover{background:rgba(255,255,255,.16)}
.log{flex:1;overflow-y:auto;overflow-x:hidden;padding:16px 14px 8px;display:flex;flex-direction:column;gap:3px;overscroll-behavior:contain}
.m{max-width:82%;display:flex;flex-direction:column;align-items:flex-start;min-width:0}
.m.v{align-self:flex-end;align-items:flex-end}
.who{font-size:12px;font-weight:600;color:#667089;margin:10px 0 3px 4px}
.b{padding:8px 12px;border-radius:16px 16px 16px 5px;background:#fff;border:1px solid #e3e6ee;white-space:pre-wrap;overflow-wrap:anywhere;max-width:100%}
.v .b{background:#3457d5;color:#fff;border-color:#3457d5;border-radius:16px 16px 5px 16px}
.v .b a{color:#fff}
.b a{color:#3457d5}
.b p{margin:0}
.b pre{margin:4px 0;padding:5px 7px;background:rgba(127,127,127,.14);border-radius:6px;overflow-x:auto;white-space:pre}
.b code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.92em}
.b :not(pre)>code{background:rgba(127,127,127,.14);padding:0 3px;border-radius:3px}
.b ul,.b ol{margin:2px 0;padding-left:1.3em;white-space:normal}
.b li{white-space:pre-wrap}
.b blockquote{margin:4px 0;padding-left:7px;border-left:3px solid currentColor;opacity:.8}
.b i{opacity:.7}
.b.media{padding:0;background:none;border:0}
.b.media .img{margin:0}
.meta{font-size:11px;color:#7c859c;margin:2px 6px 5px;display:flex;align-items:center;gap:4px}
.meta svg{width:15px;height:15px}
.read .meta svg{color:#3457d5}
.pending .b{opacity:.65}
.failed .b{background:#fde8ec;color:#1c2233;border-color:#f3b6c1}
.failed .meta{color:#c02640}
.lk{border:0;background:none;padding:0;color:#3457d5;text-decoration:underline;font-size:11px}
.more{align-self:center;min-height:28px;font-size:12px;color:#667089;display:flex;align-items:center}
.more .lk{font-size:12px}
.sys{align-self:center;max-width:90%;font-size:12px;color:#667089;text-align:center;margin:8px 0;padding:3px 10px;border-radius:10px;background:#e9ecf3}
.note{align-self:center;max-width:92%;font-size:13px;color:#4a5368;text-align:center;margin:8px 0;padding:8px 12px;border-radius:12px;background:#fff;border:1px dashed #c8cfdf;white-space:pre-wrap}
.img{display:block;max-width:100%;border-radius:10px;cursor:zoom-in;background:#e3e6ee;object-fit:cover;border:0;padding:0}
.img img{display:block;width:100%;height:100%;border-radius:10px;object-fit:cover}
.b .img,.b .fl{margin:4px 0}
.fl{display:flex;align-items:center;gap:8px;text-decoration:none;padding:6px 8px;border-radius:10px;background:rgba(52,87,213,.08);min-width:0}
.v .fl{background:rgba(255,255,255,.16)}
.fl span{min-width:0;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.fl small{opacity:.75;white-space:nowrap}
.typ{font-size:12px;color:#667089;padding:0 18px 6px;min-height:18px;font-style:italic;flex:none}
.err{display:flex;gap:8px;align-items:flex-start;background:#fde8ec;color:#9b1c31;font-size:13px;padding:9px 12px;margin:0 10px 8px;border-radius:10px;flex:none}
.err span{flex:1;overflow-wrap:anywhere}
.err button{border:0;background:none;color:inherit;padding:0;line-height:1}
.fatal{margin:auto 20px;text-align:center;font-size:14px;color:#9b1c31;background:#fde8ec;padding:14px;border-radius:12px;overflow-wrap:anywhere}
.cmp{display:flex;align-items:flex-end;gap:4px;padding:10px 10px 12px;background:#fff;border-top:1px solid #e3e6ee;flex:none}
.cmp textarea{flex:1;min-width:0;resize:none;border:1px solid #dfe3ec;border-radius:20px;padding:9px 14px;height:40px;max-height:130px;outline:none;background:#f7f8fb;line-height:1.4}
.cmp textarea:focus{border-color:#3457d5;background:#fff}
.ib{border:0;background:none;color:#667089;width:40px;height:40px;border-radius:50%;display:grid;place-items:center;flex:none}
.ib:hover:not(:disabled){background:#eef1f8;color:#3457d5}
.snd{background:#3457d5;color:#fff}
.snd:hover:not(:disabled){background:#2a46b0;color:#fff}
.card{align-self:stretch;background:#fff;border:1px solid #e3e6ee;border-radius:14px;padding:14px;margin:10px 0;display:flex;flex-direction:column;gap:10px}
.card h3{margin:0;font-size:15px;font-weight:650}
.card p{margin:0;font-size:13px;color:#667089}
.card label{display:flex;flex-direction:column;gap:4px;font-size:13px;font-weight:600;color:#4a5368}
.card input,.card textarea{border:1px solid #dfe3ec;border-radius:10px;padding:8px 10px;font-weight:400;outline:none;background:#f7f8fb;resize:vertical}
.card input:focus,.card textarea:focus{border-color:#3457d5;background:#fff}
.pri{border:0;border-radius:10px;background:#3457d5;color:#fff;padding:9px 14px;font-weight:600}
.pri:hover:not(:disabled){background:#2a46b0}
.stars{display:flex;gap:2px}
.stars button{border:0;background:none;padding:0 2px;color:#cfd5e3}
.stars svg{width:30px;height:30px;fill:currentColor;stroke:none}
.stars .on{color:#f0b429}
.thx{text-align:center;gap:4px;background:#e9f7ef;border-color:#bfe6cf}
.thx h3{color:#1f7a45}
.drop{position:absolute;inset:0;background:rgba(244,245,248,.92);border:2px dashed #3457d5;border-radius:16px;display:grid;place-items:center;font-weight:650;color:#3457d5;pointer-events:none}
.view{position:fixed;inset:0;z-index:2147483647;background:rgba(10,14,25,.86);display:grid;place-items:center;cursor:zoom-out}
.view img{max-width:94vw;max-height:90vh;border-radius:8px;box-shadow:0 10px 40px rgba(0,0,0,.5)}
.view .hb{position:fixed;top:12px;right:12px}
@media (max-width:480px){.pan{inset:0;width:auto;height:auto;border-radius:0;animation:none}.pan .drop{border-radius:0}.open .bub{display:none}}
`;
