"""The papers and methods the algorithms follow, cited in their help panels.

Each DOI below was checked against the paper's own text or a publisher/indexing record
(see docs/DECISIONS.md, "Citations"); where none could be checked, the venue is given instead
and no DOI is invented.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Citation:
    """One reference, formatted for a Processing help panel.

    Args:
        authors: authors as printed (``Kim, J., Jung, H.-S., Lu, Z.``); empty when unknown.
        year: publication year, or None when it could not be checked.
        title: title of the work.
        venue: journal, volume and pages, or conference.
        doi: the DOI without ``https://doi.org/``, or empty when none could be checked.
        url: a link used when there is no DOI (e.g. an arXiv page).
        used_for: half a sentence saying what the algorithm takes from it.
    """

    authors: str
    year: int | None
    title: str
    venue: str
    doi: str = ""
    url: str = ""
    used_for: str = ""

    def link(self) -> str:
        """The address a reader follows: the DOI resolver, else ``url``."""
        return f"https://doi.org/{self.doi}" if self.doi else self.url

    def html(self) -> str:
        """One line of rich text (the help panel renders a subset of HTML)."""
        who = f"{self.authors} " if self.authors else ""
        when = f"({self.year}). " if self.year else ""
        text = f"{who}{when}{self.title}. <i>{self.venue}</i>."
        link = self.link()
        if self.doi:
            text += f' doi: <a href="{link}">{self.doi}</a>.'
        elif link:
            text += f' <a href="{link}">{link}</a>.'
        if self.used_for:
            text += f" ({self.used_for})"
        return text


CC_RESSIAMNET = Citation(
    "Kim, J., Jung, H.-S., Lu, Z.",
    2025,
    "Ground surface displacement measurement from SAR imagery using deep learning",
    "Remote Sensing of Environment 318, 114577",
    doi="10.1016/j.rse.2024.114577",
    used_for="multi-kernel offset tracking of SAR amplitude images; 2-sigma outlier removal",
)
AUTORIFT = Citation(
    "Lei, Y., Gardner, A., Agram, P.",
    2021,
    "Autonomous Repeat Image Feature Tracking (autoRIFT) and its application for tracking "
    "ice displacement",
    "Remote Sensing 13(4), 749",
    doi="10.3390/rs13040749",
    used_for="progressive window sizes: the smallest trustworthy window is kept",
)
COSI_CORR = Citation(
    "Leprince, S., Barbot, S., Ayoub, F., Avouac, J.-P.",
    2007,
    "Automatic and precise orthorectification, coregistration, and subpixel correlation of "
    "satellite images, application to ground deformation measurements",
    "IEEE Transactions on Geoscience and Remote Sensing 45(6), 1529-1558",
    doi="10.1109/TGRS.2006.888937",
    used_for="sub-pixel correlation for ground deformation; east/north sign convention",
)
SCARANO_2002 = Citation(
    "Scarano, F.",
    2002,
    "Iterative image deformation methods in PIV",
    "Measurement Science and Technology 13(1), R1-R19",
    doi="10.1088/0957-0233/13/1/201",
    used_for="window deformation passes (as in OpenPIV's multi-pass): sub-pixel offsets without "
    "pixel locking, following motion that varies within a window",
)
GARDNER_2018 = Citation(
    "Gardner, A. S., Moholdt, G., Scambos, T., Fahnstock, M., Ligtenberg, S., van den Broeke, M., "
    "Nilsson, J.",
    2018,
    "Increased West Antarctic and unchanged East Antarctic ice discharge over the last 7 years",
    "The Cryosphere 12, 521-547",
    doi="10.5194/tc-12-521-2018",
    used_for="ITS_LIVE surface velocities from repeat images in m/yr, their error judged on "
    "stable ground",
)
ESRGAN = Citation(
    "Wang, X., Yu, K., Wu, S., Gu, J., Liu, Y., Dong, C., Qiao, Y., Loy, C. C.",
    2018,
    "ESRGAN: Enhanced super-resolution generative adversarial networks",
    "European Conference on Computer Vision (ECCV) Workshops",
    url="https://arxiv.org/abs/1809.00219",
    used_for="the RRDB generator and the VGG-style discriminator",
)
# The project's copy of this paper (papers/dem-super-resolution-esrgan.txt) starts at its
# abstract: it names no authors, title page or DOI, so none is given here.
ESRGAN_DEM = Citation(
    "",
    None,
    "ESRGAN-based DEM super-resolution for slope deformation monitoring with InSAR, "
    "Lantau Island, Hong Kong (pretraining on natural images, fine-tuning on SRTM DEMs)",
    "paper followed by the project; its copy gives no authors, venue or DOI",
    used_for="the two-stage training and the use of super-resolved DEMs for phase simulation",
)
SSIM = Citation(
    "Wang, Z., Bovik, A. C., Sheikh, H. R., Simoncelli, E. P.",
    2004,
    "Image quality assessment: from error visibility to structural similarity",
    "IEEE Transactions on Image Processing 13(4), 600-612",
    doi="10.1109/TIP.2003.819861",
    used_for="SSIM",
)
HANSSEN = Citation(
    "Hanssen, R. F.",
    2001,
    "Radar Interferometry: Data Interpretation and Error Analysis",
    "Kluwer Academic Publishers",
    used_for="topographic phase and height of ambiguity",
)
SARDINET = Citation(
    "Bralet, A., Atto, A. M., Chanussot, J., Trouvé, E.",
    2022,
    "Deep learning of radiometrical and geometrical SAR distorsions for image modality "
    "translations",
    "IEEE International Conference on Image Processing (ICIP), 1766-1770",
    used_for="the SARDINet architecture (reference [10] of the 2024 paper)",
)
KROPATSCH_STROBL = Citation(
    "Kropatsch, W. G., Strobl, D.",
    1990,
    "The generation of SAR layover and shadow maps from digital elevation models",
    "IEEE Transactions on Geoscience and Remote Sensing 28(1)",
    used_for="layover and shadow from the local slope along range",
)
MEIER_FREI_NUESCH = Citation(
    "Meier, E., Frei, U., Nüesch, D.",
    1993,
    "Precise terrain corrected geocoded images",
    "In: SAR Geocoding: Data and Systems",
    used_for="foreshortening, layover and shadow along range lines",
)
SARDINET_DEM = Citation(
    "Bralet, A., Ngo, T. N., Trouvé, E., Chanussot, J., Atto, A. M.",
    2024,
    "DEM-assisted neural network for SAR-to-optical image translation",
    "IGARSS 2024, IEEE International Geoscience and Remote Sensing Symposium, 7649-7652",
    doi="10.1109/IGARSS53475.2024.10641788",
    used_for="SAR-DEM fusion for translation in steep terrain",
)


STUMPF_2017 = Citation(
    "Stumpf, A., Malet, J.-P., Delacourt, C.",
    2017,
    "Correlation of satellite image time-series for the detection and monitoring of "
    "slow-moving landslides",
    "Remote Sensing of Environment 189, 40-55",
    doi="10.1016/j.rse.2016.11.007",
    used_for="landslides outlined from thresholded, cleaned displacement fields",
)


def references_html(citations: tuple[Citation, ...]) -> str:
    """The "References" block of a help panel ("" without citations)."""
    if not citations:
        return ""
    items = "<br>".join(f"&bull; {c.html()}" for c in citations)
    return f"<b>References</b><br>{items}"
