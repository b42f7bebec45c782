"""FAQ knowledge: entries, loading, and the hybrid (dense FAISS + lexical) retriever."""

from .index import HybridFAQRetriever, Retriever
from .store import FAQEntry, load_faqs

__all__ = ["FAQEntry", "load_faqs", "HybridFAQRetriever", "Retriever"]
