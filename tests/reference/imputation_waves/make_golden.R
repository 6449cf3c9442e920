# Distribution of mice's pooled ANCOVA over seeds: golden summaries for impute_waves().
#
# Run from the repository root:
#   python tests/reference/imputation_waves/make_inputs.py   # monotone.csv, nonmonotone.csv
#   Rscript tests/reference/imputation_waves/make_golden.R   # golden_mice_waves.csv, r_versions.txt
# CI does not need R; tests/analysis/test_imputation_waves.py reads the CSV.
#
# For each data set, seeds 1..S: mice(wide, m = M, maxit = 10, method = "pmm" for the incomplete
# columns, default predictor matrix = every other column, seed = s) on the wide data
# (arm, base, age, site, y_m03, y_m06, y_m12); then, at each wave,
# lm(y_wave ~ arm + base + age + site) on each completed data set, mice::pool, arm "immediate".
# Output: one row per data set x wave with the mean and SD over seeds of the pooled estimate,
# standard error, df and fmi (golden_mice_waves.csv), and every seed's values
# (mice_waves_by_seed.csv).

suppressPackageStartupMessages(library(mice))

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
here <- if (length(script)) dirname(normalizePath(script)) else "tests/reference/imputation_waves"

S <- as.integer(Sys.getenv("MICE_SEEDS", "100"))
M <- 10
waves <- c("m03", "m06", "m12")
by_seed <- list()
for (name in c("monotone", "nonmonotone")) {
  long <- read.csv(file.path(here, paste0(name, ".csv")), stringsAsFactors = FALSE,
                   na.strings = c("", "NA"))
  wide <- reshape(long[, c("id", "wave", "y")], idvar = "id", timevar = "wave",
                  direction = "wide")
  subj <- long[!duplicated(long$id), c("id", "arm", "base", "age", "site")]
  d <- merge(subj, wide, by = "id", sort = FALSE)
  d <- d[order(d$id), ]
  d$arm <- factor(d$arm, levels = c("delayed", "immediate"))
  d$site <- factor(d$site, levels = c("north", "south", "west"))
  d <- d[, c("arm", "base", "age", "site", paste0("y.", waves))]
  names(d) <- c("arm", "base", "age", "site", paste0("y_", waves))
  for (s in seq_len(S)) {
    imp <- mice(d, m = M, maxit = 10, method = "pmm", seed = s, printFlag = FALSE)
    for (w in waves) {
      f <- as.formula(paste0("y_", w, " ~ arm + base + age + site"))
      pooled <- pool(as.mira(lapply(seq_len(M), function(i) lm(f, data = complete(imp, i)))))
      p <- summary(pooled)
      r <- p[p$term == "armimmediate", ]
      fmi <- pooled$pooled[pooled$pooled$term == "armimmediate", "fmi"]
      by_seed[[length(by_seed) + 1]] <- data.frame(
        dataset = name, wave = w, seed = s, estimate = r$estimate, std_error = r$std.error,
        df = r$df, fmi = fmi
      )
    }
  }
}
raw <- do.call(rbind, by_seed)
write.csv(raw, file.path(here, "mice_waves_by_seed.csv"), row.names = FALSE)
key <- interaction(raw$dataset, raw$wave, drop = TRUE, lex.order = TRUE)
summ <- do.call(rbind, lapply(split(raw, key), function(g) data.frame(
  dataset = g$dataset[1], wave = g$wave[1], n_seeds = nrow(g), m = M,
  estimate_mean = mean(g$estimate), estimate_sd = sd(g$estimate),
  std_error_mean = mean(g$std_error), std_error_sd = sd(g$std_error),
  df_mean = mean(g$df), fmi_mean = mean(g$fmi)
)))
write.csv(summ, file.path(here, "golden_mice_waves.csv"), row.names = FALSE)
writeLines(c(R.version.string, paste("mice", packageVersion("mice"))),
           file.path(here, "r_versions.txt"))
print(summ)
