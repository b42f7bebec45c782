"""FAQ knowledge: entries and loading, BM25 + dense FAISS hybrid retrieval, reranking, evaluation."""

from .index import HybridFAQRetriever, Retriever
from .rerank import CrossEncoderReranker, LexicalReranker, Reranker, build_reranker
from .store import FAQEntry, load_faqs

__all__ = [
    "FAQEntry",
    "load_faqs",
    "HybridFAQRetriever",
    "Retriever",
    "Reranker",
    "LexicalReranker",
    "CrossEncoderReranker",
    "build_reranker",
]
