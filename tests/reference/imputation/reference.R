# Golden values for tests/analysis/test_imputation.py: run from this folder with
# `Rscript reference.R` (R 4.x with mice; Debian r-cran-mice). Inputs: trial_mi.csv and
# pool_inputs.csv (written by make_inputs.py). Outputs (long form, 17 significant digits):
#   golden_pool_scalar.csv  mice::pool.scalar on fixed estimates/variances      (exact, 1e-10)
#   mice_fits.csv           per-imputation lm coefficients and SEs of a mice run
#   mice_completed.csv      the completed data sets of that run (complete(imp, "long"))
#   golden_mice_pool.csv    summary(pool(with(imp, lm(...))), conf.int = TRUE) of that run
#   golden_mice_mc.csv      mice norm with m = 200: pooled results to compare within Monte Carlo
#                           error (the random draws differ from ours)
suppressPackageStartupMessages(library(mice))
options(digits = 15)

rows <- list()
add <- function(case, quantity, value) {
  rows[[length(rows) + 1]] <<- data.frame(case = case, quantity = quantity, value = value)
}
flush <- function(file) {
  out <- do.call(rbind, rows)
  out$value <- sprintf("%.17g", out$value)
  write.csv(out, file, row.names = FALSE, quote = TRUE)
  rows <<- list()
}

# ------------------------------------------------------------------ pool.scalar (pure formulas)
pin <- read.csv("pool_inputs.csv", stringsAsFactors = FALSE)
for (case in unique(pin$case)) {
  d <- pin[pin$case == case, ]
  dfcom <- d$df_complete[1]
  k <- 1
  n <- if (is.na(dfcom)) Inf else dfcom + k  # pool.scalar uses dfcom = n - k
  r <- pool.scalar(d$estimate, d$variance, n = n, k = k)
  m <- r$m
  se <- sqrt(r$t)
  add(case, "m", m)
  add(case, "qbar", r$qbar)
  add(case, "ubar", r$ubar)
  add(case, "b", r$b)
  add(case, "t", r$t)
  add(case, "df", r$df)
  add(case, "riv", r$r)
  add(case, "lambda", (1 + 1 / m) * r$b / r$t)
  add(case, "fmi", r$fmi)
  add(case, "statistic", r$qbar / se)
  add(case, "p_value", 2 * pt(abs(r$qbar / se), r$df, lower.tail = FALSE))
  add(case, "conf_low", r$qbar - qt(0.975, r$df) * se)
  add(case, "conf_high", r$qbar + qt(0.975, r$df) * se)
  add(case, "conf_low_90", r$qbar - qt(0.95, r$df) * se)
}
flush("golden_pool_scalar.csv")

# ------------------------------------------------------------------ pool() on a mice run
# the same as with(imp, lm(formula)), written so that `formula` can be a variable
fit_all <- function(imp, formula) {
  as.mira(lapply(seq_len(imp$m), function(j) lm(formula, data = complete(imp, j))))
}
trial <- read.csv("trial_mi.csv", stringsAsFactors = FALSE, na.strings = c("", "NA"))
trial$arm <- factor(trial$arm, levels = c("delayed", "immediate"))
trial$site <- factor(trial$site)

fits <- list()
completed <- list()
runs <- list(
  y = list(vars = c("arm", "site", "age", "baseline", "followup"),
           formula = followup ~ arm + baseline + age + site),
  yb = list(vars = c("arm", "site", "age", "baseline_gap", "followup"),
            formula = followup ~ arm + baseline_gap + age + site)
)
for (run in names(runs)) {
  d <- trial[, c("participant_id", runs[[run]]$vars)]
  meth <- make.method(d)
  meth[meth != ""] <- "norm"
  pred <- make.predictorMatrix(d)
  pred[, "participant_id"] <- 0
  imp <- mice(d, m = 10, method = meth, predictorMatrix = pred, maxit = 10,
              seed = 2024, printFlag = FALSE)
  fit <- fit_all(imp, runs[[run]]$formula)
  for (j in seq_along(fit$analyses)) {
    a <- fit$analyses[[j]]
    cf <- coef(summary(a))
    fits[[length(fits) + 1]] <- data.frame(
      case = run, imputation = j, term = rownames(cf),
      estimate = sprintf("%.17g", cf[, 1]), std_error = sprintf("%.17g", cf[, 2]),
      df_residual = df.residual(a))
  }
  long <- complete(imp, "long")
  completed[[run]] <- data.frame(case = run, long)
  s <- summary(pool(fit), conf.int = TRUE)
  p <- pool(fit)$pooled
  for (i in seq_len(nrow(s))) {
    case <- sprintf("%s_%s", run, as.character(s$term[i]))
    add(case, "estimate", s$estimate[i])
    add(case, "std_error", s$std.error[i])
    add(case, "statistic", s$statistic[i])
    add(case, "df", s$df[i])
    add(case, "p_value", s$p.value[i])
    add(case, "conf_low", s[i, "2.5 %"])
    add(case, "conf_high", s[i, "97.5 %"])
    add(case, "riv", p$riv[i])
    add(case, "lambda", p$lambda[i])
    add(case, "fmi", p$fmi[i])
    add(case, "ubar", p$ubar[i])
    add(case, "b", p$b[i])
    add(case, "t", p$t[i])
    add(case, "dfcom", p$dfcom[i])
  }
}
flush("golden_mice_pool.csv")
fits <- do.call(rbind, fits)
write.csv(fits, "mice_fits.csv", row.names = FALSE)
cmp <- rbind(
  data.frame(completed$y[, c("case", ".imp", "participant_id", "arm", "site", "age", "followup")],
             baseline = completed$y$baseline),
  data.frame(completed$yb[, c("case", ".imp", "participant_id", "arm", "site", "age", "followup")],
             baseline = completed$yb$baseline_gap)
)
cmp$followup <- sprintf("%.17g", cmp$followup)
cmp$baseline <- sprintf("%.17g", cmp$baseline)
write.csv(cmp, "mice_completed.csv", row.names = FALSE)

# ------------------------------------------------------------------ Monte Carlo: m = 200
mc_pool <- function(imp, formula, case) {
  fit <- fit_all(imp, formula)
  p <- pool(fit)$pooled
  i <- which(as.character(p$term) == "armimmediate")
  u <- sapply(fit$analyses, function(a) vcov(a)["armimmediate", "armimmediate"])
  add(case, "estimate", p$estimate[i])
  add(case, "std_error", sqrt(p$t[i]))
  add(case, "df", p$df[i])
  add(case, "fmi", p$fmi[i])
  add(case, "b", p$b[i])
  add(case, "ubar", p$ubar[i])
  add(case, "sd_u", sd(u))
  add(case, "m", p$m[i])
}
norm_imp <- function(d, m, maxit, seed) {
  meth <- make.method(d)
  meth[meth != ""] <- "norm"
  mice(d, m = m, method = meth, maxit = maxit, seed = seed, printFlag = FALSE)
}
M <- 200
d <- trial[, c("arm", "baseline", "followup")]
mc_pool(norm_imp(d, M, 1, 11), followup ~ arm + baseline, "plain_pred")
imp_by_arm <- rbind(norm_imp(d[d$arm == "immediate", ], M, 1, 12),
                    norm_imp(d[d$arm == "delayed", ], M, 1, 13))
mc_pool(imp_by_arm, followup ~ arm + baseline, "plain_byarm")
d <- trial[, c("arm", "site", "age", "baseline_gap", "followup")]
mc_pool(norm_imp(d, M, 20, 14), followup ~ arm + baseline_gap + age + site, "cov_gap_pred")
flush("golden_mice_mc.csv")

writeLines(c(R.version.string, paste("mice", as.character(packageVersion("mice")))),
           "r_versions.txt")
