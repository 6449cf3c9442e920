# Golden values for coaching_trials.instruments.reliability, computed with the R package psych.
#
# Run from this folder:  Rscript make_golden.R
# Inputs (written by make_inputs.py and committed): items_complete.csv, items_missing.csv,
# items_uwes.csv. Outputs (committed, read by tests/instruments/test_reliability.py):
#   golden_alpha.csv      Cronbach's alpha (psych::alpha raw_alpha) and the Feldt interval
#   golden_item_total.csv psych::alpha item statistics: r.drop, alpha if item dropped, mean, sd, n
#   golden_omega.csv      omega total from psych::omega(nfactors = 1) and the model-implied
#                         omega from psych::fa(nfactors = 1, fm = "minres") loadings
#   golden_loadings.csv   the one-factor minres loadings
#
# nan_policy "listwise" = psych on na.omit(x); "pairwise" = psych on x, whose default
# use = "pairwise" builds the covariance / correlation matrix from pairwise-complete rows.
# The Feldt interval is computed explicitly below with qf() and checked against psych's own
# alpha.ci() result (alpha()$feldt), which uses n = nrow(x) and df (n - 1, (n - 1)(k - 1)).
suppressPackageStartupMessages(library(psych))

datasets <- c("items_complete", "items_missing", "items_uwes")
policies <- c("listwise", "pairwise")
conf_levels <- c(0.95, 0.90)

feldt <- function(a, n, k, conf_level) {
  p <- 1 - conf_level
  c(low = 1 - (1 - a) * qf(1 - p / 2, n - 1, (n - 1) * (k - 1)),
    high = 1 - (1 - a) * qf(p / 2, n - 1, (n - 1) * (k - 1)))
}

alpha_rows <- list()
item_rows <- list()
omega_rows <- list()
load_rows <- list()

for (ds in datasets) {
  raw <- read.csv(paste0(ds, ".csv"), na.strings = "NA")
  for (pol in policies) {
    if (pol == "pairwise" && !anyNA(raw)) next
    x <- if (pol == "listwise") na.omit(raw) else raw
    rownames(x) <- NULL
    n <- nrow(x)
    k <- ncol(x)

    a <- suppressWarnings(psych::alpha(x))
    est <- a$total$raw_alpha
    # psych's own Feldt interval (95%) must equal the explicit formula
    f95 <- feldt(est, n, k, 0.95)
    stopifnot(isTRUE(all.equal(unname(f95["low"]), a$feldt$lower.ci[[1]])),
              isTRUE(all.equal(unname(f95["high"]), a$feldt$upper.ci[[1]])))
    for (cl in conf_levels) {
      f <- feldt(est, n, k, cl)
      alpha_rows[[length(alpha_rows) + 1]] <- data.frame(
        dataset = ds, nan_policy = pol, n = n, n_items = k, conf_level = cl,
        alpha = est, conf_low = unname(f["low"]), conf_high = unname(f["high"]))
    }

    st <- a$item.stats
    item_rows[[length(item_rows) + 1]] <- data.frame(
      dataset = ds, nan_policy = pol, item = colnames(x),
      r_drop = st$r.drop, alpha_if_deleted = a$alpha.drop$raw_alpha,
      mean = st$mean, sd = st$sd, n = st$n)

    om <- suppressWarnings(suppressMessages(
      psych::omega(x, nfactors = 1, fm = "minres", plot = FALSE)))
    fa1 <- suppressWarnings(suppressMessages(
      psych::fa(x, nfactors = 1, fm = "minres", rotate = "none")))
    lam <- as.vector(fa1$loadings[, 1])
    # the loadings inside omega() are fa()'s loadings
    stopifnot(max(abs(lam - om$schmid$sl[, 1])) < 1e-8)
    omega_model <- sum(lam)^2 / (sum(lam)^2 + sum(1 - lam^2))
    omega_rows[[length(omega_rows) + 1]] <- data.frame(
      dataset = ds, nan_policy = pol, n = n, n_items = k,
      omega_total = om$omega.tot, omega_model = omega_model,
      omega_alpha = om$alpha)
    load_rows[[length(load_rows) + 1]] <- data.frame(
      dataset = ds, nan_policy = pol, item = colnames(x), loading = lam,
      uniqueness = 1 - lam^2)
  }
}

write_golden <- function(rows, file) {
  out <- do.call(rbind, rows)
  out$psych_version <- as.character(packageVersion("psych"))
  write.csv(out, file, row.names = FALSE)
}
write_golden(alpha_rows, "golden_alpha.csv")
write_golden(item_rows, "golden_item_total.csv")
write_golden(omega_rows, "golden_omega.csv")
write_golden(load_rows, "golden_loadings.csv")
options(digits = 15)
print(do.call(rbind, alpha_rows))
print(do.call(rbind, omega_rows))
