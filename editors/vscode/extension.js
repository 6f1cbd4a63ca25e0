// herald's VS Code extension: starts `herald lsp` for the workspace's
// *.hcl files and connects VS Code's language client to it over stdio.
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const config = vscode.workspace.getConfiguration("herald");
  const command = config.get("path", "herald");
  const args = ["lsp", ...config.get("args", [])];
  client = new LanguageClient(
    "herald",
    "herald",
    { command, args },
    {
      documentSelector: [{ scheme: "file", language: "herald" }],
    },
  );
  context.subscriptions.push({ dispose: () => client && client.stop() });
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
