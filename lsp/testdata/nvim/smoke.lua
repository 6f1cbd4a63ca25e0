-- Neovim's own language client against herald lsp, headless: attach to the
-- buffer, wait for diagnostics, fix the error in the buffer (unsaved), wait
-- for them to clear, and write what was seen to $HERALD_NVIM_OUT.
local out = os.getenv("HERALD_NVIM_OUT")
local buf = vim.api.nvim_get_current_buf()
local lines = {}
local id = vim.lsp.start_client({
  name = "herald",
  cmd = { os.getenv("HERALD_BIN"), "lsp" },
  root_dir = vim.fn.getcwd(),
})
vim.lsp.buf_attach_client(buf, id)
local function diagnostics()
  return vim.diagnostic.get(buf)
end
if vim.wait(30000, function() return #diagnostics() > 0 end, 50) then
  for _, d in ipairs(diagnostics()) do
    table.insert(lines, string.format("diagnostic %d:%d-%d:%d %s", d.lnum, d.col, d.end_lnum, d.end_col, d.message))
  end
else
  table.insert(lines, "timeout waiting for diagnostics")
end
vim.api.nvim_buf_set_lines(buf, 1, 2, false, { "  group   = group.eng" })
if vim.wait(30000, function() return #diagnostics() == 0 end, 50) then
  table.insert(lines, "cleared")
else
  table.insert(lines, "timeout waiting for the diagnostics to clear")
end
vim.fn.writefile(lines, out)
vim.lsp.stop_client(id)
vim.cmd("qa!")
