// Public API of lib/display: plots, tables, image grids and progress bars for notebooks (tslab) and terminals.
export { MimeBundle, DisplayChannel, getDisplayChannel, setDisplayChannel, tslabChannel, textChannel } from './channel';
export { PLOTLY_MIME, PlotOptions, plotBundle, showPlot, resetPlotlyInline } from './plot';
export { TableOptions, DataFrameLike, tableBundle, showTable } from './table';
export { GridImage, ImageGridOptions, imageGridPng, imageGridBundle, showImageGrid } from './images';
export { ProgressBar, ProgressOptions, progressBundle, formatProgress, progressBar } from './progress';
export { PlotlyFigure, confusionMatrixFigure, plotConfusionMatrix } from './figures/confusion';
export { ClaimRow, CLAIMS_TEXT_MARKER, showClaims } from './claims';
