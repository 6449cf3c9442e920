# Golden values for coaching_trials.decision.meta_analysis (tests/decision/test_meta.py).
# Run from this folder: Rscript meta_reference.R
# Writes meta_inputs.csv (the data sets: dataset, study, estimate, std_error),
# golden_meta.csv (case, quantity, value) and golden_meta_loo.csv (leave-one-out), r_versions.txt.
suppressPackageStartupMessages(library(metafor))

# 1. BCG vaccine trials (Colditz et al. 1994; metafor::dat.bcg): log risk ratios, k = 13.
bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
bcg <- data.frame(dataset = "bcg", study = paste(dat.bcg$author, dat.bcg$year),
                  estimate = as.numeric(bcg$yi), std_error = sqrt(as.numeric(bcg$vi)))
# 2. Length of stay, specialist vs generalist care (Normand 1999; metafor::dat.normand1999):
#    raw mean differences in days, k = 9.
nrm <- escalc(measure = "MD", m1i = m1i, sd1i = sd1i, n1i = n1i,
              m2i = m2i, sd2i = sd2i, n2i = n2i, data = dat.normand1999)
nrm <- data.frame(dataset = "normand", study = dat.normand1999$source,
                  estimate = as.numeric(nrm$yi), std_error = sqrt(as.numeric(nrm$vi)))
# 3. A small homogeneous set (Q < k - 1, so tau2 is truncated at 0 by both estimators).
hom <- data.frame(dataset = "homogeneous", study = c("s1", "s2", "s3", "s4"),
                  estimate = c(0.10, 0.12, 0.11, 0.09), std_error = sqrt(c(0.04, 0.05, 0.06, 0.03)))
inputs <- rbind(bcg, nrm, hom)
write.csv(inputs, "meta_inputs.csv", row.names = FALSE)

fmt <- function(x) trimws(formatC(x, digits = 17, format = "g"))
rows <- list(); loo_rows <- list()
ctrl <- list(threshold = 1e-12, maxiter = 10000)
for (ds in unique(inputs$dataset)) {
  d <- inputs[inputs$dataset == ds, ]
  for (method in c("REML", "DL")) {
    for (test in c("z", "knha")) {
      fit <- rma(yi = d$estimate, sei = d$std_error, method = method, test = test,
                 control = ctrl)
      pr <- predict(fit)
      case <- paste(ds, method, test, sep = "_")
      vals <- c(estimate = fit$beta[1], std_error = fit$se, statistic = fit$zval,
                p_value = fit$pval, conf_low = fit$ci.lb, conf_high = fit$ci.ub,
                tau2 = fit$tau2, i2 = fit$I2, h2 = fit$H2, q = fit$QE, q_p = fit$QEp,
                pi_low = pr$pi.lb, pi_high = pr$pi.ub, k = fit$k)
      rows[[case]] <- data.frame(case = case, quantity = names(vals), value = fmt(vals))
      l1 <- leave1out(fit)  # refits with the control settings of `fit`
      loo_rows[[case]] <- data.frame(case = case, omitted = d$study,
        estimate = fmt(l1$estimate), std_error = fmt(l1$se), p_value = fmt(l1$pval),
        conf_low = fmt(l1$ci.lb), conf_high = fmt(l1$ci.ub), tau2 = fmt(l1$tau2),
        i2 = fmt(l1$I2), q = fmt(l1$Q))
    }
  }
}
write.csv(do.call(rbind, rows), "golden_meta.csv", row.names = FALSE)
write.csv(do.call(rbind, loo_rows), "golden_meta_loo.csv", row.names = FALSE)
writeLines(c(R.version.string, paste("metafor", packageVersion("metafor"))), "r_versions.txt")
