"""Product knowledge: the catalog as a networkx graph, and linking user text to products."""

from .catalog import Attribute, Catalog, Product
from .linker import ProductLinker

__all__ = ["Attribute", "Catalog", "Product", "ProductLinker"]
