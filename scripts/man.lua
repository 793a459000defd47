-- pandoc filter: a page of docs/ (GitHub Markdown) as a manual page.
--
-- One source for both: docs/cli.md is netlab(1), docs/topology.md is
-- netlab.topo(5) (`make man`).  What a man page needs differently:
--  * the title heading goes (the .TH line has the title); "## X" becomes
--    a section (.SH, upper-case as man pages have them), "### X" a
--    subsection;
--  * a page without a NAME section gets one from the metadata `whatis`
--    (what apropos and lexgrog read), then DESCRIPTION;
--  * links become their text: a man page cannot follow them;
--  * tables become definition lists (.TP): tbl cells of code words
--    cannot be broken at 80 columns (man --warnings complains), and a
--    term with its explanation reads better in a terminal; in a table
--    of more than two columns, each cell after the first is labelled
--    with its heading.

function Link(el)
  return el.content
end

function Header(el)
  if el.level == 1 then
    return {}
  end
  el.level = el.level - 1
  if el.level == 1 then
    return pandoc.Header(1, pandoc.text.upper(pandoc.utils.stringify(el.content)))
  end
  return el
end

function Table(el)
  local heads = {}
  if #el.head.rows > 0 then
    for i, c in ipairs(el.head.rows[1].cells) do
      heads[i] = pandoc.utils.stringify(c.contents)
    end
  end
  local items = {}
  for _, body in ipairs(el.bodies) do
    for _, row in ipairs(body.body) do
      local term = pandoc.utils.blocks_to_inlines(row.cells[1].contents)
      local paras = {}
      for i = 2, #row.cells do
        local inl = pandoc.utils.blocks_to_inlines(row.cells[i].contents)
        if #inl > 0 then
          if #row.cells > 2 and heads[i] and heads[i] ~= "" then
            table.insert(inl, 1, pandoc.Space())
            table.insert(inl, 1, pandoc.Emph({ pandoc.Str(heads[i] .. ":") }))
          end
          table.insert(paras, pandoc.Para(inl))
        end
      end
      table.insert(items, { term, { paras } })
    end
  end
  return pandoc.DefinitionList(items)
end

function Pandoc(doc)
  local whatis = doc.meta.whatis
  if not whatis then
    return doc
  end
  local blocks = {
    pandoc.Header(1, "NAME"),
    pandoc.Para(pandoc.utils.stringify(whatis)),
    pandoc.Header(1, "DESCRIPTION"),
  }
  for _, b in ipairs(doc.blocks) do
    table.insert(blocks, b)
  end
  return pandoc.Pandoc(blocks, doc.meta)
end
