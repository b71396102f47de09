"""The workbench's stylesheet (Textual CSS), shared by the app and its screens."""

CSS = """
Screen { layout: vertical; }
#main { height: 1fr; }
#chat-pane { width: 1fr; min-width: 36; }
#side { width: 1fr; min-width: 40; border-left: vkey $primary 30%; }
Screen.-narrow #main { layout: vertical; }
Screen.-narrow #side { border-left: none; border-top: hkey $primary 30%; height: 1fr; }
ChatLog { height: 1fr; padding: 0 1; }
.bubble { margin: 1 0 0 0; padding: 0 1; border: round $primary 40%; border-title-color: $text-muted; }
.bubble.user { border: round $success 50%; margin-left: 4; }
.bubble.assistant { margin-right: 4; }
.bubble.streaming { border: round $warning 60%; }
PromptInput { dock: bottom; margin: 0 1; }
#status { height: 1; background: $boost; color: $text-muted; padding: 0 1; }
/* Textual's compact footer gives every key a right margin, the palette key docked at the right edge too, so
   where the keys overflow (80 columns) the last column showed the key text under it (a stray "c"). */
Footer.-compact FooterKey.-command-palette { margin-right: 0; }
#side ContentSwitcher, #side TabPane, FeedPane, MemoriesView { height: 1fr; }
#side TabPane { padding: 0; }
Feed, #memory-table { height: 1fr; }
#feed-unseen { height: 1; background: $warning 30%; display: none; }
#dialog { width: 90%; height: 85%; border: thick $primary 60%; background: $surface; padding: 1 2; }
#memory-body { height: 1fr; }
#memory-retention { height: 14; }
#cmp-head { height: 1; }
#cmp-a { width: auto; }
#cmp-b { width: 30; }
#cmp-summary { color: $text-muted; width: 1fr; }
#cmp-tabs, #cmp-tabs TabPane, #cmp-mem-scroll { height: 1fr; }
#cmp-tabs TabPane { padding: 0; }
#cmp-questions { height: 7; }
CompareScreen.-narrow #cmp-questions { height: 5; }
#cmp-ret { height: 1fr; }
#cmp-ret VerticalScroll { width: 1fr; }
#plot-tabs, #plot-tabs TabPane, #plot-tabs PlotextPlot { height: 1fr; }
CompareScreen.-narrow #dialog, PlotScreen.-narrow #dialog { width: 100%; height: 100%; padding: 0 1; }
#edit-text { height: 1fr; }
#strategy-body { height: 1fr; }
#strategy-list { width: 28; }
#strategy-info { padding: 0 1; }
#strategy-params { height: auto; }
#strategy-params Label { width: 1fr; }
StrategyScreen.-narrow #strategy-list { width: 18; }
StrategyScreen.-narrow #dialog { width: 100%; height: 100%; padding: 0 1; }
#tt-table { height: 1fr; }
.buttons { height: auto; align-horizontal: right; margin-top: 1; }
.buttons Button { margin-left: 2; }
.hint { color: $text-muted; }
BackfillScreen #dialog, EditScreen #dialog { height: auto; max-height: 80%; }
EditScreen #edit-text { height: 8; }
"""
