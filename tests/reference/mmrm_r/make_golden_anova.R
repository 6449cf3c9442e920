# Type 3 (marginal) Wald F statistics of the trial3 MMRM from nlme::gls, for
# tests/analysis/test_mmrm_anova.py (MmrmResult.anova). Run from the repository root:
#   Rscript tests/reference/mmrm_r/make_golden_anova.R
# Sum-to-zero contrasts make nlme's marginal tests the SAS-style Type 3 hypotheses; the baseline
# covariate enters as a number, so the visit effect is tested at baseline = 0 (as in SAS).
# nlme reports F with n - p denominator df; only the F values are compared (the Satterthwaite
# den df are checked against SAS in the same test file).
suppressPackageStartupMessages(library(nlme))
d <- read.csv("tests/reference/mmrm_r/trial3.csv")
d$arm <- factor(d$arm, levels = c("delayed", "immediate"))
d$wave <- factor(d$wave, levels = c("month3", "month6", "month9"))
d$wave_index <- as.integer(d$wave)
options(contrasts = c("contr.sum", "contr.poly"))
fit <- gls(pfi_burnout ~ arm * wave + pfi_burnout_bl * wave, data = d,
  correlation = corSymm(form = ~ wave_index | participant_id),
  weights = varIdent(form = ~ 1 | wave),
  method = "REML", na.action = na.omit,
  control = glsControl(tolerance = 1e-10, msTol = 1e-10, maxIter = 500, msMaxIter = 500))
a <- anova(fit, type = "marginal")
terms <- c(arm = "arm", wave = "wave", `arm:wave` = "arm:wave",
           pfi_burnout_bl = "pfi_burnout_bl", `wave:pfi_burnout_bl` = "pfi_burnout_bl:wave")
out <- data.frame(r_term = rownames(a), num_df = a$numDF, f_value = a$`F-value`)
out <- out[out$r_term %in% names(terms), ]
out$effect <- unname(terms[out$r_term])
write.csv(out[, c("effect", "r_term", "num_df", "f_value")],
          "tests/reference/mmrm_r/golden_anova.csv", row.names = FALSE)
