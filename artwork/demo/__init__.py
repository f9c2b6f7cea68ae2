"""What ``artwork demo`` runs on: sample footage that ships inside packages, the sample
catalogue built from it, and a simulated viewing history."""
