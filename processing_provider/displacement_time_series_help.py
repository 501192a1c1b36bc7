"""Help text of geohazard:displacementtimeseries (kept apart from the algorithm's code)."""

HELP = """Cumulative ground displacement at every date of a stack of SAR amplitude images (or any \
co-registered images) of one area: when a landslide started, whether it accelerates, how far it \
has gone. Every pair of a network is tracked by the classical tracker (as \
geohazard:offsettracking) on one common grid, and the network is inverted per grid point.

<b>Input</b>: at least 3 co-registered rasters of the same area (layers, or from qgis_process a \
folder: INPUT=/path/to/folder takes its .tif files in name order). Images on another grid than \
the first are resampled onto it (bilinear), with a warning. <b>Dates</b>: comma-separated \
YYYY-MM-DD in the order of INPUT; when empty, each file's ACQUISITION_DATE (or similar) \
metadata tag, else a YYYYMMDD date in its name (as in Sentinel-1 file names). Images must be \
given oldest first; a missing, repeated or out-of-order date is refused.

<b>Pair network</b>: each image with its next K images (<b>pairs per image</b>, default 3: 12 \
dates give 30 pairs), at most the <b>largest time span</b> apart (days, 0: no limit; long \
spans decorrelate). The offset-tracking parameters (window sizes, step, search, pre-filter, \
stable ground, quality, outlier filter, deformation passes) mean what they mean in \
geohazard:offsettracking and apply to every pair.

<b>Inversion</b> per grid point and axis: the cumulative displacement at each date (the first \
date is 0) by weighted least squares over the pairs (weights 1/sigma^2 from each pair's \
calibrated 1-sigma); pairs that contradict the others are rejected by iteratively reweighted \
least squares (Tukey's biweight on the pair's normalised residual); an interval no pair spans \
is bridged by a weak minimum-velocity constraint (the SBAS approach: Berardino et al. 2002; \
for offsets Casu et al. 2011), so no motion is measured over a gap and the log says where. \
The 1-sigma per date comes from the normal equations, scaled by the residuals when they \
exceed the pairs' own 1-sigma.

<b>Output</b> (one GeoTIFF, every band description starting with its date as YYYY-MM-DD): \
bands 1 to 2N the east and north cumulative displacement (m) of each date in date order (date \
k: bands 2k-1 and 2k); bands 2N+1 to 3N the magnitude (m) of each date; bands 3N+1 to 5N the \
east and north 1-sigma (m) of each date. Loaded in QGIS it becomes a group of one layer per \
date, each showing its date's magnitude on one common colour ramp, with a fixed temporal range \
from its date to the next: the Temporal Controller (View > Panels) plays the series.

<b>Velocity output</b> (m/yr): bands 1-6 in the layout of offset tracking's velocity output \
(mean east, north velocity and speed from a weighted line fit through the dates, quality = \
median peak NCC of the pairs kept, east and north 1-sigma), so geohazard:landslideareas takes \
it as INPUT; appended: 7-8 east and north acceleration (m/yr2, from a parabola), 9-10 their \
1-sigma, 11 the network residual (m, RMS misfit of the kept pairs: where the pairs disagree), \
12 the number of pairs kept.

<b>Report</b> (HTML, optional): a plot of cumulative displacement against date for each \
landslide area (mean over its points, standard deviation shaded; the <b>landslide areas</b> \
polygons, e.g. from geohazard:landslideareas, or else the groups of points that moved more \
than 3 sigma) and each of the <b>points</b> given (with 1-sigma bars), and a table of the \
pairs with the share of points where each was rejected.

<b>Cost and clusters</b>: the image is cut into bands of rows; each band is one task that reads \
and transforms each image once (reading, pre-filter, local energies, block FFTs, spline) \
for every pair it takes part in. Without a <b>Dask scheduler address</b> the tasks run on this \
machine on all cores. With one (tcp://host:8786; also Plugins > Geohazard settings key \
geohazard/dask_scheduler) the tasks run on the workers of that dask.distributed cluster and \
the inversion on this machine; every worker must read the images at the same paths (a shared \
file system) and import the plugin (PYTHONPATH holding the folder that contains geohazard). \
Progress and the time left cover the whole stack; cancel leaves no output."""
