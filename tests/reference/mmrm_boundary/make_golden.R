# What R does with the constructed boundary MMRM (sparse_last_visit.csv, see make_data.py).
#
# Run from the repository root:
#   python tests/reference/mmrm_boundary/make_data.py    # writes sparse_last_visit.csv
#   Rscript tests/reference/mmrm_boundary/make_golden.R  # writes golden_r_outcome.csv
# CI does not need R; tests/analysis/test_fit_checks.py reads the CSV.
#
# Model: AVAL ~ ARMCD * AVISIT + BASE * AVISIT by REML, unstructured covariance (nlme:
# corSymm + varIdent), and the same mean model with compound symmetry (corCompSymm). Only 6
# subjects reach V4, so the unstructured REML likelihood is unbounded: the script records
# whether nlme::gls returns a fit or stops with an error, and the V4 contrast when it fits.

suppressPackageStartupMessages(library(nlme))

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
here <- if (length(script)) dirname(normalizePath(script)) else "tests/reference/mmrm_boundary"

d <- read.csv(file.path(here, "sparse_last_visit.csv"), stringsAsFactors = FALSE)
d <- d[!is.na(d$AVAL), ]
d$ARMCD <- factor(d$ARMCD, levels = c("PBO", "TRT"))
d$AVISIT <- factor(d$AVISIT, levels = c("V1", "V2", "V3", "V4"))
d$USUBJID <- factor(d$USUBJID)
d$VIS <- as.integer(d$AVISIT)

fit_one <- function(structure) {
  corr <- switch(structure,
    unstructured = corSymm(form = ~ VIS | USUBJID),
    compound_symmetry = corCompSymm(form = ~ 1 | USUBJID)
  )
  weights <- if (structure == "unstructured") varIdent(form = ~ 1 | AVISIT) else NULL
  res <- tryCatch(
    gls(AVAL ~ ARMCD * AVISIT + BASE * AVISIT, data = d, correlation = corr,
        weights = weights, method = "REML",
        control = glsControl(maxIter = 500, msMaxIter = 500)),
    error = function(e) e
  )
  if (inherits(res, "error")) {
    return(data.frame(structure = structure, fitted = FALSE,
                      message = gsub("[\r\n]+", " ", conditionMessage(res)),
                      v4_estimate = NA, v4_std_error = NA))
  }
  b <- coef(res)
  v <- vcov(res)
  l <- setNames(rep(0, length(b)), names(b))
  l["ARMCDTRT"] <- 1
  l["ARMCDTRT:AVISITV4"] <- 1
  data.frame(structure = structure, fitted = TRUE, message = "",
             v4_estimate = sum(l * b), v4_std_error = sqrt(drop(t(l) %*% v %*% l)))
}

out <- rbind(fit_one("unstructured"), fit_one("compound_symmetry"))
out$r_version <- R.version.string
out$nlme_version <- as.character(packageVersion("nlme"))
write.csv(out, file.path(here, "golden_r_outcome.csv"), row.names = FALSE)
print(out)
