# Golden numbers for DelayedInterventionTrial on the (synthetic) sample trial.
#
# Input : sample_items.csv    (raw item responses, written by export_sample.py), scored here in
#         base R by score_sample.R -> sample_scored.csv (no score from coaching_trials is read)
# Output: golden.csv          (read by tests/design/test_delayed_golden.py; compared at 1e-6)
#
# Run from the repository root:  Rscript tests/reference/design/make_golden.R
# Uses base R (lm, t.test, p.adjust) and emmeans (Lenth), independent of the Python code: the
# reshaping to one row per participant is done here too.

suppressPackageStartupMessages(library(emmeans))

here <- "tests/reference/design"
source(file.path(here, "score_sample.R"))  # items -> sample_scored.csv, in R
long <- read.csv(file.path(here, "sample_scored.csv"), stringsAsFactors = FALSE)
outcomes <- c("pfi_burnout", "pfi_pf", "pfi_id", "iwpr_score", "qol_score", "uwes9_total",
              "svs_total")
primary <- "pfi_burnout"

ids <- sort(unique(long$participant_id))
arm_of <- tapply(long$arm, long$participant_id, function(a) a[1])
sessions_of <- tapply(long$sessions_attended, long$participant_id, function(a) a[1])
at_wave <- function(outcome, w) {
  sub <- long[long$wave == w, ]
  sub[[outcome]][match(ids, sub$participant_id)]
}

rows <- list()
add <- function(analysis, outcome, term, estimate, std_error = NA, df = NA, statistic = NA,
                p_value = NA, conf_low = NA, conf_high = NA, n = NA) {
  rows[[length(rows) + 1]] <<- data.frame(
    analysis = analysis, outcome = outcome, term = term, estimate = estimate,
    std_error = std_error, df = df, statistic = statistic, p_value = p_value,
    conf_low = conf_low, conf_high = conf_high, n = n, stringsAsFactors = FALSE)
}
add_t <- function(analysis, outcome, term, tt, n) {
  add(analysis, outcome, term, unname(tt$estimate), unname(tt$stderr), unname(tt$parameter),
      unname(tt$statistic), tt$p.value, tt$conf.int[1], tt$conf.int[2], n)
}

ancova_p <- c()
for (y in outcomes) {
  d <- data.frame(arm = factor(arm_of[ids], levels = c("delayed", "immediate")),
                  y0 = at_wave(y, "baseline"), y3 = at_wave(y, "month3"),
                  y6 = at_wave(y, "month6"), sessions = as.numeric(sessions_of[ids]))

  # 1. ANCOVA: month3 on arm + baseline; emmeans contrast immediate - delayed
  fit <- lm(y3 ~ arm + y0, data = d)
  emm <- emmeans(fit, ~ arm)
  con <- summary(contrast(emm, list("immediate - delayed" = c(-1, 1))), infer = TRUE)
  n_used <- nrow(model.frame(fit))
  add("ancova", y, "immediate - delayed", con$estimate, con$SE, con$df, con$t.ratio, con$p.value,
      con$lower.CL, con$upper.CL, n_used)
  ancova_p[y] <- con$p.value
  if (y == primary) {
    em <- summary(emm, infer = TRUE)
    for (k in seq_len(nrow(em))) {
      add("adjusted_mean", y, as.character(em$arm[k]), em$emmean[k], em$SE[k], em$df[k],
          NA, NA, em$lower.CL[k], em$upper.CL[k], NA)
    }
  }

  # 2. change score, pooled-variance t (immediate - delayed)
  d$change <- d$y3 - d$y0
  ok <- !is.na(d$change)
  tt <- t.test(d$change[ok & d$arm == "immediate"], d$change[ok & d$arm == "delayed"],
               var.equal = TRUE)
  add("change", y, "immediate - delayed", unname(tt$estimate[1] - tt$estimate[2]),
      unname(tt$stderr), unname(tt$parameter), unname(tt$statistic), tt$p.value,
      tt$conf.int[1], tt$conf.int[2], sum(ok))

  # 3. percent change of arm means on paired complete cases; descriptives on all available
  for (a in c("immediate", "delayed")) {
    pc <- ok & d$arm == a
    add("percent_change", y, a, 100 * (mean(d$y3[pc]) - mean(d$y0[pc])) / mean(d$y0[pc]),
        n = sum(pc))
    b <- d$y0[d$arm == a & !is.na(d$y0)]
    e <- d$y3[d$arm == a & !is.na(d$y3)]
    add("baseline_mean", y, a, mean(b), sd(b), n = length(b))
    add("endpoint_mean", y, a, mean(e), sd(e), n = length(e))
  }

  # 4. delayed arm pre/post coaching and within-person contrast (paired t)
  dl <- d[d$arm == "delayed", ]
  pair <- complete.cases(dl$y3, dl$y6)
  add_t("delayed_prepost", y, "month6 - month3", t.test(dl$y6, dl$y3, paired = TRUE), sum(pair))
  after <- dl$y6 - dl$y3
  waiting <- dl$y3 - dl$y0
  pair <- complete.cases(after, waiting)
  add_t("delayed_within", y, "(month6 - month3) - (month3 - baseline)",
        t.test(after, waiting, paired = TRUE), sum(pair))

  # 5. pooled pre/post aligned to coaching start
  imm <- d$arm == "immediate"
  pre <- ifelse(imm, d$y0, d$y3)
  post <- ifelse(imm, d$y3, d$y6)
  add_t("pooled_prepost", y, "post - pre coaching", t.test(post, pre, paired = TRUE),
        sum(complete.cases(pre, post)))

  # 6. durability: immediate arm month3 -> month6
  im <- d[imm, ]
  add_t("durability", y, "month6 - month3", t.test(im$y6, im$y3, paired = TRUE),
        sum(complete.cases(im$y3, im$y6)))

  # 7. dose-response: change across coaching on sessions attended (pooled periods)
  dose <- data.frame(change = post - pre, sessions = d$sessions)
  fit <- lm(change ~ sessions, data = dose)
  cf <- summary(fit)$coefficients
  ci <- confint(fit)
  add("dose_response", y, "sessions", cf["sessions", 1], cf["sessions", 2], fit$df.residual,
      cf["sessions", 3], cf["sessions", 4], ci["sessions", 1], ci["sessions", 2],
      nrow(model.frame(fit)))
}

# 8. Holm over the secondary outcomes' ANCOVA p-values (the primary keeps its raw p)
secondary <- setdiff(outcomes, primary)
holm <- p.adjust(ancova_p[secondary], method = "holm")
for (y in secondary) add("holm", y, "p_adjusted", holm[[y]])
add("holm", primary, "p_adjusted", ancova_p[[primary]])

golden <- do.call(rbind, rows)
write.csv(golden, file.path(here, "golden.csv"), row.names = FALSE)
cat("wrote", nrow(golden), "rows with R", R.version.string, "and emmeans",
    as.character(packageVersion("emmeans")), "\n")
