-- indicator-dsl (.ind files) in Neovim: the filetype, comments, and the language server
-- `indicator-eval lsp` (diagnostics, hover, completion, go to definition, outline,
-- formatting). Put this file in ~/.config/nvim/plugin/ (or `dofile()` it from init.lua).
-- Neovim 0.8 or later starts the server with vim.lsp.start; 0.7 with vim.lsp.start_client.

local command = vim.g.indicator_lsp_cmd or { "indicator-eval", "lsp" }

if vim.filetype and vim.filetype.add then
  vim.filetype.add({ extension = { ind = "indicator" } })
end
vim.api.nvim_create_autocmd({ "BufNewFile", "BufRead" }, {
  pattern = "*.ind",
  command = "setfiletype indicator",
})

local function root_of(file)
  local found = vim.fs and vim.fs.find and vim.fs.find({ "indicator_sets", ".git" },
    { upward = true, path = vim.fn.fnamemodify(file, ":p:h") })[1]
  return found and vim.fn.fnamemodify(found, ":h") or vim.fn.fnamemodify(file, ":p:h")
end

local clients = {}

local function attach(buffer)
  local config = {
    name = "indicator-dsl",
    cmd = command,
    root_dir = root_of(vim.api.nvim_buf_get_name(buffer)),
  }
  if vim.lsp.start then
    vim.lsp.start(config, { bufnr = buffer })
    return
  end
  -- Neovim 0.7: one client per root, attached to each buffer.
  local id = clients[config.root_dir]
  if id == nil or vim.lsp.get_client_by_id(id) == nil then
    id = vim.lsp.start_client(config)
    clients[config.root_dir] = id
  end
  if id then
    vim.lsp.buf_attach_client(buffer, id)
  end
end

vim.api.nvim_create_autocmd("FileType", {
  pattern = "indicator",
  callback = function(args)
    vim.bo[args.buf].commentstring = "# %s"
    vim.bo[args.buf].comments = ":#"
    vim.bo[args.buf].omnifunc = "v:lua.vim.lsp.omnifunc" -- <C-x><C-o> completes
    attach(args.buf)
  end,
})
