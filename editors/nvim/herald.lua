-- herald's language server in Neovim 0.8 or later: put this file in
-- ~/.config/nvim/plugin/ (or require it from init.lua). It starts
-- `herald lsp` for every *.hcl buffer, rooted at the buffer's directory.
vim.api.nvim_create_autocmd({ "BufReadPost", "BufNewFile" }, {
  pattern = "*.hcl",
  callback = function(args)
    vim.lsp.start({
      name = "herald",
      cmd = { "herald", "lsp" },
      root_dir = vim.fs.dirname(args.file),
    })
  end,
})
