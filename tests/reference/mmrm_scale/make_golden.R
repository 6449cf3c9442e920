# Golden values for the MMRM's per-pattern sufficient-statistics path (nlme::gls, REML, UN).
#
# Run from the repository root:
#   python tests/reference/mmrm_scale/make_data.py    # writes scale.csv (committed)
#   Rscript tests/reference/mmrm_scale/make_golden.R  # writes golden_*.csv (committed)
# Model: y ~ arm * wave + base * wave, unstructured covariance (corSymm + varIdent), REML.

suppressPackageStartupMessages(library(nlme))
args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
here <- if (length(script)) dirname(normalizePath(script)) else "tests/reference/mmrm_scale"
d <- read.csv(file.path(here, "scale.csv"), stringsAsFactors = FALSE)
d$arm <- factor(d$arm, levels = c("control", "coach"))
d$wave <- factor(d$wave, levels = c("w1", "w2", "w3", "w4"))
d$t <- as.integer(d$wave)
fit <- gls(y ~ arm * wave + base * wave, data = d,
           correlation = corSymm(form = ~ t | subject),
           weights = varIdent(form = ~ 1 | wave), method = "REML",
           control = glsControl(tolerance = 1e-10, msTol = 1e-10, maxIter = 500,
                                msMaxIter = 500))
fmt <- function(x) trimws(formatC(x, digits = 15, format = "g"))
cf <- summary(fit)$tTable
write.csv(data.frame(r_term = rownames(cf), estimate = fmt(cf[, "Value"]),
                     std_error = fmt(cf[, "Std.Error"])),
          file.path(here, "golden_coefficients.csv"), row.names = FALSE)
sig <- getVarCov(fit, individual = d$subject[d$t == 4][1])
write.csv(data.frame(i = rep(1:4, 4), j = rep(1:4, each = 4), value = fmt(as.vector(sig))),
          file.path(here, "golden_covariance.csv"), row.names = FALSE)
write.csv(data.frame(neg2_loglik = fmt(-2 * as.numeric(logLik(fit))), n_obs = nrow(d),
                     r_version = R.version.string,
                     nlme_version = as.character(packageVersion("nlme"))),
          file.path(here, "golden_fit.csv"), row.names = FALSE)
