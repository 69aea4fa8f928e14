import ML
