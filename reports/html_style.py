"""The inline style sheet of the HTML report: system fonts only, nothing fetched from anywhere."""

from __future__ import annotations

STYLE = """
:root {
  --ink: #1f2328; --muted: #5f6b76; --line: #d8dee4; --soft: #f6f8fa; --accent: #1b6ca8;
  --best: #e6f4ea; --best-ink: #14532d; --warn: #fff4e0; --warn-ink: #8a4b00;
}
* { box-sizing: border-box; }
body {
  margin: 0; color: var(--ink); background: #fff; line-height: 1.5;
  font: 15px/1.5 -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
header.page { background: var(--soft); border-bottom: 1px solid var(--line); padding: 20px 0 12px; }
.wrap { max-width: 1240px; margin: 0 auto; padding: 0 24px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 21px; margin: 36px 0 12px; padding-bottom: 6px; border-bottom: 1px solid var(--line); }
h3 { font-size: 17px; margin: 24px 0 8px; }
.sub { color: var(--muted); margin: 0; }
.sub code, td code, .runs code { background: #eef1f4; padding: 1px 5px; border-radius: 4px; font-size: 13px; }
nav.toc { position: sticky; top: 0; z-index: 5; background: rgba(255,255,255,0.96);
  border-bottom: 1px solid var(--line); }
nav.toc .wrap { display: flex; gap: 20px; padding-top: 8px; padding-bottom: 8px; flex-wrap: wrap; }
nav.toc a { color: var(--accent); text-decoration: none; font-weight: 600; font-size: 14px; }
nav.toc a:hover { text-decoration: underline; }
.callout { background: var(--warn); color: var(--warn-ink); border: 1px solid #f1d19b; border-radius: 8px;
  padding: 10px 14px; margin: 16px 0; }
.callout ul { margin: 6px 0 0; padding-left: 20px; }
figure { margin: 0; }
figure.result-table { margin: 18px 0 28px; }
figure.result-table > figcaption { color: var(--muted); font-size: 14px; margin-bottom: 8px; max-width: 980px; }
figure.result-table .scroll + .scroll { margin-top: 12px; }
figure.result-table > figcaption strong { color: var(--ink); font-size: 16px; display: block; margin-bottom: 2px; }
.scroll { overflow-x: auto; border: 1px solid var(--line); border-radius: 8px; }
table.results { border-collapse: collapse; font-variant-numeric: tabular-nums; font-size: 14px;
  width: max-content; min-width: 100%; }
table.results th, table.results td { padding: 6px 12px; border-bottom: 1px solid var(--line); white-space: nowrap; }
table.results thead th { background: var(--soft); font-weight: 600; text-align: center; }
table.results thead tr.cats th { border-bottom: 2px solid var(--line); }
table.results td { text-align: right; }
table.results th.model { text-align: left; }
table.results tbody th { text-align: left; font-weight: 600; background: #fff; position: sticky; left: 0; }
table.results tbody tr:nth-child(even) td, table.results tbody tr:nth-child(even) th { background: #fbfcfd; }
table.results tbody tr:hover td, table.results tbody tr:hover th { background: #f0f6fc; }
table.results .first { border-left: 2px solid var(--line); }
table.results td.best { background: var(--best) !important; color: var(--best-ink); }
table.results td.low { color: var(--warn-ink); }
.ci { color: var(--muted); font-size: 12.5px; }
sup.flag { color: #b45309; font-weight: 700; }
sup.note { color: var(--accent); }
ul.notes { list-style: none; padding: 0; margin: 8px 0 0; color: var(--muted); font-size: 13px; }
ul.notes .mark { display: inline-block; min-width: 1.4em; font-weight: 700; color: var(--ink); }
.gallery { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
.gallery figure { background: var(--soft); border: 1px solid var(--line); border-radius: 8px; padding: 8px; }
.gallery figure.real { background: #eef6ee; border-color: #b9dcbc; }
.gallery.samples { display: grid; grid-template-columns: repeat(auto-fill, minmax(250px, 1fr)); }
.gallery.samples img { width: 100%; }
.gallery figcaption { font-size: 13px; font-weight: 600; margin-top: 6px; text-align: center; }
.gallery figcaption span { display: block; font-weight: 400; color: var(--muted); }
img { max-width: 100%; height: auto; display: block; margin: 0 auto; }
img.pixel { image-rendering: pixelated; }
.plots { display: flex; flex-wrap: wrap; gap: 18px; align-items: flex-start; }
.plots figure { border: 1px solid var(--line); border-radius: 8px; padding: 10px; background: #fff; max-width: 100%; }
.missing { color: var(--warn-ink); background: var(--warn); border: 1px dashed #e0b46b; border-radius: 6px;
  padding: 24px 12px; font-size: 13px; text-align: center; min-width: 180px; }
details.run { border: 1px solid var(--line); border-radius: 8px; margin: 12px 0; padding: 0 14px; }
details.run > summary { cursor: pointer; font-weight: 600; padding: 10px 0; }
table.kv { border-collapse: collapse; font-size: 13px; width: 100%; margin-bottom: 14px; table-layout: fixed; }
table.kv th, table.kv td { text-align: left; vertical-align: top; padding: 4px 8px;
  border-bottom: 1px solid #eceff2; }
table.kv th { width: 34%; color: var(--muted); font-weight: 500; word-break: break-word; }
table.kv td { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  word-break: break-all; }
table.kv caption { text-align: left; font-weight: 600; padding: 6px 0; }
footer { color: var(--muted); font-size: 13px; margin: 40px 0 30px; border-top: 1px solid var(--line);
  padding-top: 12px; }
"""
