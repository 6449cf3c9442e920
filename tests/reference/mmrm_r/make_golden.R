# Golden values for coaching_trials.analysis.mmrm from R (nlme::gls + emmeans).
#
# Run from the repository root:
#   python tests/reference/mmrm_r/make_data.py      # writes trial3.csv (committed)
#   Rscript tests/reference/mmrm_r/make_golden.R     # writes golden_*.csv (committed)
# CI does not need R; the tests only read the CSV files.
#
# Model: an MMRM with unstructured residual covariance over the 3 follow-up waves,
#   pfi_burnout ~ arm * wave + pfi_burnout_bl * wave,
# written in nlme as general correlation (corSymm) + visit-specific variances (varIdent),
# fitted by REML on all observed rows (rows with a missing outcome are omitted, i.e. MAR,
# not complete cases). LS-means and the immediate - delayed difference at each wave come from
# emmeans with Satterthwaite degrees of freedom (mode = "satterthwaite"; the mode actually used
# is written into the CSV).

suppressPackageStartupMessages({
  library(nlme)
  library(emmeans)
})

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
here <- if (length(script)) dirname(normalizePath(script)) else "tests/reference/mmrm_r"

d <- read.csv(file.path(here, "trial3.csv"), stringsAsFactors = FALSE)
d$arm <- factor(d$arm, levels = c("delayed", "immediate"))
d$wave <- factor(d$wave, levels = c("month3", "month6", "month9"))
d$participant_id <- factor(d$participant_id)
d$wave_index <- as.integer(d$wave)

fit <- gls(
  pfi_burnout ~ arm * wave + pfi_burnout_bl * wave,
  data = d,
  correlation = corSymm(form = ~ wave_index | participant_id),
  weights = varIdent(form = ~ 1 | wave),
  method = "REML",
  na.action = na.omit,
  control = glsControl(tolerance = 1e-10, msTol = 1e-10, maxIter = 500, msMaxIter = 500)
)

fmt <- function(x) trimws(formatC(x, digits = 15, format = "g"))

# fixed effects
cf <- summary(fit)$tTable
coefs <- data.frame(
  r_term = rownames(cf),
  estimate = fmt(cf[, "Value"]),
  std_error = fmt(cf[, "Std.Error"])
)
write.csv(coefs, file.path(here, "golden_coefficients.csv"), row.names = FALSE, quote = TRUE)

# fit statistics (-2 REML log-likelihood includes the (n - p) log(2 pi) and log|X'V^-1 X| terms)
fitstats <- data.frame(
  neg2_loglik = fmt(-2 * as.numeric(logLik(fit))),
  n_obs = nobs(fit),
  r_version = R.version.string,
  nlme_version = as.character(packageVersion("nlme")),
  emmeans_version = as.character(packageVersion("emmeans"))
)
write.csv(fitstats, file.path(here, "golden_fit.csv"), row.names = FALSE, quote = TRUE)

# residual covariance matrix over the three waves (from a participant observed at every wave)
complete_ids <- names(which(table(d$participant_id[!is.na(d$pfi_burnout)]) == 3))
vc <- as.matrix(getVarCov(fit, individual = complete_ids[1]))
cov_long <- data.frame(
  row_wave = rep(levels(d$wave), times = 3),
  col_wave = rep(levels(d$wave), each = 3),
  estimate = fmt(as.vector(vc))
)
write.csv(cov_long, file.path(here, "golden_covariance.csv"), row.names = FALSE, quote = TRUE)

# LS-means by arm x wave and immediate - delayed at each wave
# emmeans falls back to "appx-satterthwaite" for gls (with a message) when its analytical
# Satterthwaite method is unavailable; record the mode that was really used.
set.seed(20240611)  # appx-satterthwaite uses random perturbations; fix them
mode_used <- "satterthwaite"
emm <- withCallingHandlers(
  emmeans(fit, ~ arm | wave, mode = "satterthwaite"),
  message = function(m) {
    if (grepl("appx-satterthwaite", conditionMessage(m))) mode_used <<- "appx-satterthwaite"
  }
)
es <- as.data.frame(summary(emm))
lsm <- data.frame(
  arm = as.character(es$arm),
  wave = as.character(es$wave),
  estimate = fmt(es$emmean),
  std_error = fmt(es$SE),
  df = fmt(es$df),
  emmeans_mode = mode_used
)
write.csv(lsm, file.path(here, "golden_lsmeans.csv"), row.names = FALSE, quote = TRUE)

ct <- as.data.frame(summary(contrast(emm, method = "revpairwise"), infer = c(TRUE, TRUE)))
con <- data.frame(
  contrast = as.character(ct$contrast),
  wave = as.character(ct$wave),
  estimate = fmt(ct$estimate),
  std_error = fmt(ct$SE),
  df = fmt(ct$df),
  conf_low = fmt(ct$lower.CL),
  conf_high = fmt(ct$upper.CL),
  p_value = fmt(ct$p.value),
  emmeans_mode = mode_used
)
write.csv(con, file.path(here, "golden_contrasts.csv"), row.names = FALSE, quote = TRUE)
