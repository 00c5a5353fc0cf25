// The VS Code client of indicator-dsl: starts `indicator-eval lsp` for .ind files.
// Plain JavaScript, no build step: `npm install` in this folder, then run it from VS Code
// (F5 with this folder open) or package it with `npx @vscode/vsce package`.
"use strict";

const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function serverOptions() {
  const config = vscode.workspace.getConfiguration("indicator");
  const command = config.get("server.command") || "indicator-eval";
  const args = config.get("server.args") || ["lsp"];
  return { command, args, transport: TransportKind.stdio };
}

function activate(context) {
  const clientOptions = {
    documentSelector: [
      { scheme: "file", language: "indicator" },
      { scheme: "untitled", language: "indicator" },
    ],
    outputChannelName: "指标体系语言服务 (indicator-eval lsp)",
  };
  client = new LanguageClient("indicator", "指标体系 (.ind)", serverOptions(), clientOptions);
  const started = client.start();
  Promise.resolve(started).catch((err) => {
    vscode.window.showErrorMessage(
      "无法启动指标体系语言服务（indicator-eval lsp）：" + (err && err.message ? err.message : err) +
      "。请先安装：pip install 'indicator-dsl[lsp]'，或在设置 indicator.server.command 中填写 " +
      "indicator-eval 的完整路径。");
  });
  context.subscriptions.push({ dispose: () => (client ? client.stop() : undefined) });
  return started;
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
